/**
 * @module monitoring/model-stats: one Durable Object per model (SQLite-backed, RPC methods) that
 * aggregates what isolates observe of it across the whole deployment: requests by version, tenant
 * and outcome with latency and inference-time histograms, cold loads and load failures, and shadow
 * traffic per (primary, shadow) pair. Isolates call it after the response (waitUntil), batched.
 */
import { DurableObject } from "cloudflare:workers";
import type { ShadowSample } from "../serving/shadow";
import { emptySummary, mergeSummary, moments, psi, type DriftDelta, type Summary } from "./drift";
import { emptyHistogram, merge, type Histogram, type LoadDelta, type Outcome, type RequestDelta } from "./histogram";

/** Shadow figures for one pair of versions, as the admin API shows them. */
export interface ShadowPairStats {
  primary_version: number;
  shadow_version: number;
  mirrored: number;
  compared: number;
  agreed: number;
  /** agreed / compared, null before anything was compared. */
  agreement: number | null;
  /** Mirrored requests the shadow could not run (load failure, inputs it does not accept). */
  errors: number;
  max_abs_diff: number | null;
  primary_ms: { mean: number | null; max: number | null };
  shadow_ms: { mean: number | null; max: number | null };
  first_at: string;
  last_at: string;
  last_error: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS shadow (
  primary_version INTEGER NOT NULL, shadow_version INTEGER NOT NULL,
  mirrored INTEGER NOT NULL DEFAULT 0, compared INTEGER NOT NULL DEFAULT 0, agreed INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0, max_abs_diff REAL,
  primary_ms_sum REAL NOT NULL DEFAULT 0, primary_ms_max REAL, shadow_ms_sum REAL NOT NULL DEFAULT 0, shadow_ms_max REAL,
  first_at TEXT NOT NULL, last_at TEXT NOT NULL, last_error TEXT,
  PRIMARY KEY (primary_version, shadow_version));
CREATE TABLE IF NOT EXISTS requests (
  version INTEGER NOT NULL, tenant TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL,
  latency TEXT NOT NULL, inference TEXT NOT NULL, last_at TEXT NOT NULL,
  PRIMARY KEY (version, tenant, outcome));
CREATE TABLE IF NOT EXISTS drift (
  slot TEXT NOT NULL, version INTEGER NOT NULL, role TEXT NOT NULL, tensor TEXT NOT NULL, summary TEXT NOT NULL,
  PRIMARY KEY (slot, version, role, tensor));
CREATE TABLE IF NOT EXISTS drift_pins (version INTEGER PRIMARY KEY, pinned_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS loads (
  version INTEGER PRIMARY KEY, cold INTEGER NOT NULL, failed INTEGER NOT NULL, last_at TEXT NOT NULL);
`;

/** A model's request counts and histograms, per version, tenant and outcome, as stored. */
export interface RequestRow {
  version: number;
  tenant: string;
  outcome: Outcome;
  count: number;
  latency: Histogram;
  inference: Histogram;
  last_at: string;
}

/** A version's cold loads and load failures, as stored. */
export interface LoadRow {
  version: number;
  cold: number;
  failed: number;
  last_at: string;
}

type Row = {
  primary_version: number;
  shadow_version: number;
  mirrored: number;
  compared: number;
  agreed: number;
  errors: number;
  max_abs_diff: number | null;
  primary_ms_sum: number;
  primary_ms_max: number | null;
  shadow_ms_sum: number;
  shadow_ms_max: number | null;
  first_at: string;
  last_at: string;
  last_error: string | null;
};

const round = (x: number | null, digits = 3) => (x === null ? null : Number(x.toFixed(digits)));

/** The Durable Object class bound as MODEL_STATS. Its name is the model's name. */
export class ModelStats extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Adds an isolate's request, load and drift deltas (sent after responses, batched). */
  recordRequests(requests: RequestDelta[], loads: LoadDelta[], drift: DriftDelta[] = []): void {
    for (const d of drift) {
      const row = this.sql
        .exec<{ summary: string }>("SELECT summary FROM drift WHERE slot = 'current' AND version = ? AND role = ? AND tensor = ?", d.version, d.role, d.tensor)
        .toArray()[0];
      const summary = row ? (JSON.parse(row.summary) as Summary) : emptySummary();
      mergeSummary(summary, d.summary);
      this.sql.exec("INSERT OR REPLACE INTO drift (slot, version, role, tensor, summary) VALUES ('current', ?, ?, ?, ?)", d.version, d.role, d.tensor, JSON.stringify(summary));
    }
    const now = new Date().toISOString();
    for (const r of requests) {
      const row = this.sql
        .exec<{ count: number; latency: string; inference: string }>(
          "SELECT count, latency, inference FROM requests WHERE version = ? AND tenant = ? AND outcome = ?", r.version, r.tenant, r.outcome)
        .toArray()[0];
      const latency = row ? (JSON.parse(row.latency) as Histogram) : emptyHistogram();
      const inference = row ? (JSON.parse(row.inference) as Histogram) : emptyHistogram();
      merge(latency, r.latency);
      merge(inference, r.inference);
      this.sql.exec(
        "INSERT OR REPLACE INTO requests (version, tenant, outcome, count, latency, inference, last_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        r.version, r.tenant, r.outcome, (row?.count ?? 0) + r.count, JSON.stringify(latency), JSON.stringify(inference), now);
    }
    for (const l of loads) {
      this.sql.exec(
        `INSERT INTO loads (version, cold, failed, last_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (version) DO UPDATE SET cold = cold + excluded.cold, failed = failed + excluded.failed, last_at = excluded.last_at`,
        l.version, l.cold, l.failed, now);
    }
  }

  /** Everything recorded of requests and loads, every version. */
  requestStats(): { requests: RequestRow[]; loads: LoadRow[] } {
    const requests = this.sql
      .exec<{ version: number; tenant: string; outcome: string; count: number; latency: string; inference: string; last_at: string }>(
        "SELECT * FROM requests ORDER BY version, tenant, outcome")
      .toArray()
      .map((r) => ({ ...r, outcome: r.outcome as Outcome, latency: JSON.parse(r.latency) as Histogram, inference: JSON.parse(r.inference) as Histogram }));
    const loads = this.sql.exec<LoadRow & Record<string, string | number>>("SELECT * FROM loads ORDER BY version").toArray();
    return { requests, loads };
  }

  /**
   * Pins what `version` has been sent and answered so far as its drift baseline, and starts the
   * current summaries afresh. Returns how many tensors the baseline covers.
   */
  pinDriftBaseline(version: number): number {
    this.sql.exec("DELETE FROM drift WHERE slot = 'baseline' AND version = ?", version);
    this.sql.exec("UPDATE drift SET slot = 'baseline' WHERE slot = 'current' AND version = ?", version);
    this.sql.exec("INSERT OR REPLACE INTO drift_pins (version, pinned_at) VALUES (?, ?)", version, new Date().toISOString());
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM drift WHERE slot = 'baseline' AND version = ?", version).toArray()[0]!.n;
  }

  /** Per version and tensor: the baseline, the traffic since it was pinned, and the drift score. */
  driftReport() {
    const rows = this.sql
      .exec<{ slot: string; version: number; role: string; tensor: string; summary: string }>("SELECT * FROM drift ORDER BY version, role, tensor")
      .toArray();
    const pins = new Map(this.sql.exec<{ version: number; pinned_at: string }>("SELECT * FROM drift_pins").toArray().map((p) => [p.version, p.pinned_at]));
    const versions = [...new Set(rows.map((r) => r.version))];
    return versions.map((version) => {
      const keys = [...new Set(rows.filter((r) => r.version === version).map((r) => `${r.role}\u0000${r.tensor}`))];
      const tensors = keys.map((key) => {
        const [role, tensor] = key.split("\u0000") as [string, string];
        const find = (slot: string) => rows.find((r) => r.slot === slot && r.version === version && r.role === role && r.tensor === tensor);
        const baseline = find("baseline") ? (JSON.parse(find("baseline")!.summary) as Summary) : null;
        const current = find("current") ? (JSON.parse(find("current")!.summary) as Summary) : emptySummary();
        const view = (s: Summary) => ({ count: s.count, ...moments(s), min: s.min, max: s.max });
        const b = baseline ? moments(baseline) : null;
        const c = moments(current);
        const meanShift = b && b.sd && c.mean !== null && b.mean !== null ? Math.round((Math.abs(c.mean - b.mean) / b.sd) * 1000) / 1000 : null;
        return {
          role, tensor,
          baseline: baseline ? view(baseline) : null,
          current: view(current),
          drift_score: baseline ? psi(baseline, current) : null,
          mean_shift_sd: meanShift,
        };
      });
      return { version, baseline_pinned_at: pins.get(version) ?? null, tensors };
    });
  }

  /** Adds mirrored requests (an isolate may send several at once). */
  recordShadow(samples: ShadowSample[]): void {
    const now = new Date().toISOString();
    for (const s of samples) {
      // Compared: the shadow ran (its outputs may still disagree); an error: it could not run.
      const compared = s.shadowMs !== null ? 1 : 0;
      this.sql.exec(
        `INSERT INTO shadow (primary_version, shadow_version, first_at, last_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (primary_version, shadow_version) DO NOTHING`,
        s.primaryVersion, s.shadowVersion, now, now);
      this.sql.exec(
        `UPDATE shadow SET mirrored = mirrored + 1, compared = compared + ?, agreed = agreed + ?, errors = errors + ?,
           max_abs_diff = CASE WHEN ? IS NULL THEN max_abs_diff ELSE max(coalesce(max_abs_diff, ?), ?) END,
           primary_ms_sum = primary_ms_sum + ?, primary_ms_max = max(coalesce(primary_ms_max, ?), ?),
           shadow_ms_sum = shadow_ms_sum + ?, shadow_ms_max = CASE WHEN ? IS NULL THEN shadow_ms_max ELSE max(coalesce(shadow_ms_max, ?), ?) END,
           last_at = ?, last_error = coalesce(?, last_error)
         WHERE primary_version = ? AND shadow_version = ?`,
        compared, compared && s.agree ? 1 : 0, 1 - compared,
        s.maxAbsDiff, s.maxAbsDiff, s.maxAbsDiff,
        s.primaryMs, s.primaryMs, s.primaryMs,
        s.shadowMs ?? 0, s.shadowMs, s.shadowMs, s.shadowMs,
        now, s.error ?? null,
        s.primaryVersion, s.shadowVersion);
    }
  }

  /** Every pair's figures, by primary then shadow version. */
  shadowStats(): ShadowPairStats[] {
    const rows = this.sql.exec<Row>("SELECT * FROM shadow ORDER BY primary_version, shadow_version").toArray();
    return rows.map((r) => ({
      primary_version: r.primary_version,
      shadow_version: r.shadow_version,
      mirrored: r.mirrored,
      compared: r.compared,
      agreed: r.agreed,
      agreement: r.compared > 0 ? round(r.agreed / r.compared, 4) : null,
      errors: r.errors,
      max_abs_diff: r.max_abs_diff,
      primary_ms: { mean: r.mirrored > 0 ? round(r.primary_ms_sum / r.mirrored) : null, max: round(r.primary_ms_max) },
      shadow_ms: { mean: r.compared > 0 ? round(r.shadow_ms_sum / r.compared) : null, max: round(r.shadow_ms_max) },
      first_at: r.first_at,
      last_at: r.last_at,
      last_error: r.last_error,
    }));
  }

  /** Forgets the shadow figures (an operator starting a fresh comparison). */
  resetShadow(): number {
    return this.sql.exec("DELETE FROM shadow").rowsWritten;
  }
}
