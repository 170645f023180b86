/**
 * @module monitoring/stats-store/requests: a model's request counts and histograms by version,
 * tenant and outcome, its cold loads and load failures, and its executions by batch size.
 */
import type { ExecutionDelta, Histogram, LoadDelta, Outcome, RequestDelta } from "../histogram";
import { emptyHistogram, merge } from "../histogram";
import type { Schema } from "../../storage/migrations";

/** The requests, loads and executions tables; version 1 is the schema from before versioning. */
export const REQUESTS_SCHEMA: Schema = {
  name: "requests",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS requests (
  version INTEGER NOT NULL, tenant TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL,
  latency TEXT NOT NULL, inference TEXT NOT NULL, last_at TEXT NOT NULL,
  PRIMARY KEY (version, tenant, outcome));
CREATE TABLE IF NOT EXISTS loads (
  version INTEGER PRIMARY KEY, cold INTEGER NOT NULL, failed INTEGER NOT NULL, last_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
  version INTEGER NOT NULL, batch_size INTEGER NOT NULL, count INTEGER NOT NULL, ms REAL NOT NULL,
  PRIMARY KEY (version, batch_size))`,
  ],
};

/** A model's request counts and histograms, per version, tenant and outcome, as stored. */
export type RequestRow = RequestDelta & { last_at: string };

/** A version's cold loads and load failures, as stored. */
export interface LoadRow {
  version: number;
  cold: number;
  failed: number;
  last_at: string;
}

/** Adds requests to their (version, tenant, outcome) rows. */
export function recordRequests(sql: SqlStorage, requests: readonly RequestDelta[], now: string): void {
  for (const r of requests) {
    const row = sql
      .exec<{ count: number; latency: string; inference: string }>(
        "SELECT count, latency, inference FROM requests WHERE version = ? AND tenant = ? AND outcome = ?", r.version, r.tenant, r.outcome)
      .toArray()[0];
    const latency = row ? (JSON.parse(row.latency) as Histogram) : emptyHistogram();
    const inference = row ? (JSON.parse(row.inference) as Histogram) : emptyHistogram();
    merge(latency, r.latency);
    merge(inference, r.inference);
    sql.exec(
      "INSERT OR REPLACE INTO requests (version, tenant, outcome, count, latency, inference, last_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      r.version, r.tenant, r.outcome, (row?.count ?? 0) + r.count, JSON.stringify(latency), JSON.stringify(inference), now);
  }
}

/** Adds executions to their (version, batch size) rows. */
export function recordExecutions(sql: SqlStorage, executions: readonly ExecutionDelta[]): void {
  for (const e of executions) {
    sql.exec(
      `INSERT INTO executions (version, batch_size, count, ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (version, batch_size) DO UPDATE SET count = count + excluded.count, ms = ms + excluded.ms`,
      e.version, e.batch_size, e.count, e.ms);
  }
}

/** Adds cold loads and load failures to their version's row. */
export function recordLoads(sql: SqlStorage, loads: readonly LoadDelta[], now: string): void {
  for (const l of loads) {
    sql.exec(
      `INSERT INTO loads (version, cold, failed, last_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (version) DO UPDATE SET cold = cold + excluded.cold, failed = failed + excluded.failed, last_at = excluded.last_at`,
      l.version, l.cold, l.failed, now);
  }
}

/** Everything recorded of requests, loads and executions, every version. */
export function requestStats(sql: SqlStorage): { requests: RequestRow[]; loads: LoadRow[]; executions: ExecutionDelta[] } {
  const requests = sql
    .exec<{ version: number; tenant: string; outcome: string; count: number; latency: string; inference: string; last_at: string }>(
      "SELECT * FROM requests ORDER BY version, tenant, outcome")
    .toArray()
    .map((r) => ({ ...r, outcome: r.outcome as Outcome, latency: JSON.parse(r.latency) as Histogram, inference: JSON.parse(r.inference) as Histogram }));
  const loads = sql.exec<LoadRow & Record<string, string | number>>("SELECT * FROM loads ORDER BY version").toArray();
  const executions = sql.exec<ExecutionDelta & Record<string, number>>("SELECT * FROM executions ORDER BY version, batch_size").toArray();
  return { requests, loads, executions };
}
