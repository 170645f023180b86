/**
 * @module monitoring/stats-store/minutes: a model's requests per minute and version, kept a day:
 * counts, errors and the latency histogram. The alert windows and /admin stats read them.
 */
import type { WindowFigures } from "../alerts";
import { emptyHistogram, isClientSide, merge, type Histogram, type RequestDelta } from "../histogram";
import type { Schema } from "../../storage/migrations";

/** The minutes table; version 1 is the schema from before versioning. */
export const MINUTES_SCHEMA: Schema = {
  name: "minutes",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS minutes (
  minute INTEGER NOT NULL, version INTEGER NOT NULL, count INTEGER NOT NULL, errors INTEGER NOT NULL, latency TEXT NOT NULL,
  PRIMARY KEY (minute, version))`,
  ],
};

/** One minute's figures for one version. */
export interface MinuteRow {
  minute: number;
  version: number;
  count: number;
  errors: number;
  latency: Histogram;
}

/** Adds requests to the current minute's rows, and forgets minutes older than a day. */
export function recordMinutes(sql: SqlStorage, requests: readonly RequestDelta[], nowMs: number): void {
  const minute = Math.floor(nowMs / 60_000);
  for (const r of requests) {
    // A client that went away says nothing of the model: kept out of the alerts' windows.
    if (isClientSide(r.outcome)) continue;
    const row = sql
      .exec<{ count: number; errors: number; latency: string }>("SELECT count, errors, latency FROM minutes WHERE minute = ? AND version = ?", minute, r.version)
      .toArray()[0];
    const latency = row ? (JSON.parse(row.latency) as Histogram) : emptyHistogram();
    merge(latency, r.latency);
    // Errors: predictions that did not succeed, except rate-limit refusals (the tenant's limit, not the model).
    const errors = r.outcome === "success" || r.outcome === "rate_limited" ? 0 : r.count;
    sql.exec(
      "INSERT OR REPLACE INTO minutes (minute, version, count, errors, latency) VALUES (?, ?, ?, ?, ?)",
      minute, r.version, (row?.count ?? 0) + r.count, (row?.errors ?? 0) + errors, JSON.stringify(latency));
  }
  sql.exec("DELETE FROM minutes WHERE minute < ?", minute - 24 * 60);
}

/** Each minute's figures per version, from `minutes` ago on. */
export function minuteSeries(sql: SqlStorage, minutes: number, nowMs: number): MinuteRow[] {
  const from = Math.floor(nowMs / 60_000) - minutes + 1;
  return sql
    .exec<{ minute: number; version: number; count: number; errors: number; latency: string }>(
      "SELECT minute, version, count, errors, latency FROM minutes WHERE minute >= ? ORDER BY minute, version", from)
    .toArray()
    .map((r) => ({ ...r, latency: JSON.parse(r.latency) as Histogram }));
}

/** The figures of the last `seconds` (whole minutes), all versions together. */
export function windowFigures(sql: SqlStorage, seconds: number, nowMs: number): WindowFigures {
  const from = Math.floor(nowMs / 60_000) - Math.ceil(seconds / 60) + 1;
  const rows = sql.exec<{ count: number; errors: number; latency: string }>("SELECT count, errors, latency FROM minutes WHERE minute >= ?", from).toArray();
  const latency = emptyHistogram();
  for (const r of rows) merge(latency, JSON.parse(r.latency) as Histogram);
  return { count: rows.reduce((n, r) => n + r.count, 0), errors: rows.reduce((n, r) => n + r.errors, 0), latency };
}
