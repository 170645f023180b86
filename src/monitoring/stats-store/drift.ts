/**
 * @module monitoring/stats-store/drift: a model's input and output summaries per hourly window
 * (kept a week) and each version's pinned baseline, and the drift report between them.
 */
import { DRIFT_EDGES, emptySummary, mergeSummary, moments, psi, type DriftDelta, type Summary } from "../drift";
import type { Schema } from "../../storage/migrations";

/** The drift and drift_pins tables; version 1 is the schema from before versioning. */
export const DRIFT_SCHEMA: Schema = {
  name: "drift",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS drift (
  slot TEXT NOT NULL, version INTEGER NOT NULL, role TEXT NOT NULL, tensor TEXT NOT NULL, summary TEXT NOT NULL,
  PRIMARY KEY (slot, version, role, tensor));
CREATE TABLE IF NOT EXISTS drift_pins (version INTEGER PRIMARY KEY, pinned_at TEXT NOT NULL)`,
  ],
};

/** Adds summaries to the current hour's window ("h:<hours since the epoch>"); forgets windows older than a week. */
export function recordDrift(sql: SqlStorage, drift: readonly DriftDelta[], nowMs: number): void {
  const hour = Math.floor(nowMs / 3_600_000);
  const hourSlot = `h:${hour}`;
  for (const d of drift) {
    const row = sql
      .exec<{ summary: string }>("SELECT summary FROM drift WHERE slot = ? AND version = ? AND role = ? AND tensor = ?", hourSlot, d.version, d.role, d.tensor)
      .toArray()[0];
    const summary = row ? (JSON.parse(row.summary) as Summary) : emptySummary();
    mergeSummary(summary, d.summary);
    sql.exec("INSERT OR REPLACE INTO drift (slot, version, role, tensor, summary) VALUES (?, ?, ?, ?, ?)", hourSlot, d.version, d.role, d.tensor, JSON.stringify(summary));
  }
  if (drift.length) sql.exec("DELETE FROM drift WHERE slot LIKE 'h:%' AND CAST(substr(slot, 3) AS INTEGER) < ?", hour - 24 * 7);
}

/**
 * Pins what `version` has been sent and answered in its kept windows (up to a week) as its drift
 * baseline, and starts the windows afresh. Returns how many tensors the baseline covers.
 */
export function pinDriftBaseline(sql: SqlStorage, version: number): number {
  const rows = sql
    .exec<{ role: string; tensor: string; summary: string }>("SELECT role, tensor, summary FROM drift WHERE slot LIKE 'h:%' AND version = ?", version)
    .toArray();
  const merged = new Map<string, { role: string; tensor: string; summary: Summary }>();
  for (const r of rows) {
    const key = `${r.role}\u0000${r.tensor}`;
    const m = merged.get(key) ?? { role: r.role, tensor: r.tensor, summary: emptySummary() };
    mergeSummary(m.summary, JSON.parse(r.summary) as Summary);
    merged.set(key, m);
  }
  sql.exec("DELETE FROM drift WHERE version = ?", version);
  for (const m of merged.values()) {
    sql.exec("INSERT INTO drift (slot, version, role, tensor, summary) VALUES ('baseline', ?, ?, ?, ?)", version, m.role, m.tensor, JSON.stringify(m.summary));
  }
  sql.exec("INSERT OR REPLACE INTO drift_pins (version, pinned_at) VALUES (?, ?)", version, new Date().toISOString());
  return merged.size;
}

/**
 * Per version and tensor: the baseline, the traffic of the last `hours` hourly windows (since the
 * pin at most), and the drift score between them.
 */
export function driftReport(sql: SqlStorage, hours: number, nowMs: number) {
  const from = Math.floor(nowMs / 3_600_000) - Math.max(1, Math.ceil(hours)) + 1;
  const raw = sql
    .exec<{ slot: string; version: number; role: string; tensor: string; summary: string }>("SELECT * FROM drift ORDER BY version, role, tensor")
    .toArray();
  // The recent windows merged into one 'current' row per tensor.
  const rows: typeof raw = raw.filter((r) => r.slot === "baseline");
  const recent = raw.filter((x) => x.slot.startsWith("h:") && Number(x.slot.slice(2)) >= from);
  for (const r of recent) {
    const existing = rows.find((x) => x.slot === "current" && x.version === r.version && x.role === r.role && x.tensor === r.tensor);
    if (!existing) rows.push({ ...r, slot: "current" });
    else {
      const merged = JSON.parse(existing.summary) as Summary;
      mergeSummary(merged, JSON.parse(r.summary) as Summary);
      existing.summary = JSON.stringify(merged);
    }
  }
  const pins = new Map(sql.exec<{ version: number; pinned_at: string }>("SELECT * FROM drift_pins").toArray().map((p) => [p.version, p.pinned_at]));
  const versions = [...new Set(rows.map((r) => r.version))];
  return versions.map((version) => {
    const keys = [...new Set(rows.filter((r) => r.version === version).map((r) => `${r.role}\u0000${r.tensor}`))];
    const tensors = keys.map((key) => {
      const [role, tensor] = key.split("\u0000") as [string, string];
      const find = (slot: string) => rows.find((r) => r.slot === slot && r.version === version && r.role === role && r.tensor === tensor);
      const baseline = find("baseline") ? (JSON.parse(find("baseline")!.summary) as Summary) : null;
      const current = find("current") ? (JSON.parse(find("current")!.summary) as Summary) : emptySummary();
      const view = (s: Summary) => ({ count: s.count, ...moments(s), min: s.min, max: s.max, histogram: { le: [...DRIFT_EDGES, "+Inf"], counts: s.bins } });
      const b = baseline ? moments(baseline) : null;
      const c = moments(current);
      const meanShift = b && b.sd && c.mean !== null && b.mean !== null ? Math.round((Math.abs(c.mean - b.mean) / b.sd) * 1000) / 1000 : null;
      return {
        role, tensor,
        baseline: baseline ? view(baseline) : null,
        current: view(current),
        drift_score: baseline ? psi(baseline, current) : null,
        mean_shift_sd: meanShift,
        // Each hourly window of the report on its own: the score over time.
        hourly: recent
          .filter((r) => r.version === version && r.role === role && r.tensor === tensor)
          .map((r) => {
            const hour = JSON.parse(r.summary) as Summary;
            return { at: new Date(Number(r.slot.slice(2)) * 3_600_000).toISOString(), count: hour.count, drift_score: baseline ? psi(baseline, hour) : null };
          })
          .sort((a, b) => a.at.localeCompare(b.at)),
      };
    });
    return { version, baseline_pinned_at: pins.get(version) ?? null, window_hours: Math.max(1, Math.ceil(hours)), tensors };
  });
}

/** A drift report, as driftReport returns it. */
export type DriftReport = ReturnType<typeof driftReport>;
