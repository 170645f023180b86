/**
 * @module monitoring/model-stats: one Durable Object per model (SQLite-backed, RPC methods) that
 * aggregates what isolates observe of it across the whole deployment: requests by version, tenant
 * and outcome with latency and inference-time histograms, cold loads and load failures, and shadow
 * traffic per (primary, shadow) pair. Isolates call it after the response (waitUntil), batched.
 */
import { DurableObject } from "cloudflare:workers";
import type { ShadowSample } from "../serving/shadow";
import { parseModelConfig, type ModelConfig } from "../serving/config";
import { backoffSeconds, ruleValue, transition, type AlertRule, type WindowFigures } from "./alerts";
import { DRIFT_EDGES, emptySummary, mergeSummary, moments, psi, type DriftDelta, type Summary } from "./drift";
import { emptyHistogram, isClientSide, merge, type ExecutionDelta, type Histogram, type LoadDelta, type Outcome, type RequestDelta } from "./histogram";

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
CREATE TABLE IF NOT EXISTS minutes (
  minute INTEGER NOT NULL, version INTEGER NOT NULL, count INTEGER NOT NULL, errors INTEGER NOT NULL, latency TEXT NOT NULL,
  PRIMARY KEY (minute, version));
CREATE TABLE IF NOT EXISTS alerts (
  name TEXT PRIMARY KEY, metric TEXT NOT NULL, state TEXT NOT NULL, value REAL, since TEXT, fired INTEGER NOT NULL DEFAULT 0,
  pending TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER, last_error TEXT, last_sent_at TEXT);
CREATE TABLE IF NOT EXISTS loads (
  version INTEGER PRIMARY KEY, cold INTEGER NOT NULL, failed INTEGER NOT NULL, last_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
  version INTEGER NOT NULL, batch_size INTEGER NOT NULL, count INTEGER NOT NULL, ms REAL NOT NULL,
  PRIMARY KEY (version, batch_size));
`;

/** A model's request counts and histograms, per version, tenant and outcome, as stored. */
export type RequestRow = RequestDelta & { last_at: string };

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

  private configCache?: { model: string; at: number; config: ModelConfig };

  /**
   * Adds an isolate's request, load, drift and execution deltas (sent after responses, batched),
   * then checks the model's alert rules against them.
   */
  async recordRequests(requests: RequestDelta[], loads: LoadDelta[], drift: DriftDelta[] = [], model?: string, executions: ExecutionDelta[] = []): Promise<void> {
    this.record(requests, loads, drift, executions);
    if (model) await this.evaluateAlerts(model);
  }

  private record(requests: RequestDelta[], loads: LoadDelta[], drift: DriftDelta[], executions: ExecutionDelta[]): void {
    const minute = Math.floor(Date.now() / 60_000);
    for (const r of requests) {
      // A client that went away or was too slow says nothing of the model: kept out of the alerts' windows.
      if (isClientSide(r.outcome)) continue;
      const row = this.sql
        .exec<{ count: number; errors: number; latency: string }>("SELECT count, errors, latency FROM minutes WHERE minute = ? AND version = ?", minute, r.version)
        .toArray()[0];
      const latency = row ? (JSON.parse(row.latency) as Histogram) : emptyHistogram();
      merge(latency, r.latency);
      // Errors: predictions that did not succeed, except rate-limit refusals (the tenant's limit, not the model).
      const errors = r.outcome === "success" || r.outcome === "rate_limited" ? 0 : r.count;
      this.sql.exec(
        "INSERT OR REPLACE INTO minutes (minute, version, count, errors, latency) VALUES (?, ?, ?, ?, ?)",
        minute, r.version, (row?.count ?? 0) + r.count, (row?.errors ?? 0) + errors, JSON.stringify(latency));
    }
    this.sql.exec("DELETE FROM minutes WHERE minute < ?", minute - 24 * 60);
    // Drift summaries go to the current hour's window ("h:<hours since the epoch>").
    const hour = Math.floor(Date.now() / 3_600_000);
    const hourSlot = `h:${hour}`;
    for (const d of drift) {
      const row = this.sql
        .exec<{ summary: string }>("SELECT summary FROM drift WHERE slot = ? AND version = ? AND role = ? AND tensor = ?", hourSlot, d.version, d.role, d.tensor)
        .toArray()[0];
      const summary = row ? (JSON.parse(row.summary) as Summary) : emptySummary();
      mergeSummary(summary, d.summary);
      this.sql.exec("INSERT OR REPLACE INTO drift (slot, version, role, tensor, summary) VALUES (?, ?, ?, ?, ?)", hourSlot, d.version, d.role, d.tensor, JSON.stringify(summary));
    }
    // Hourly windows are kept a week.
    if (drift.length) this.sql.exec("DELETE FROM drift WHERE slot LIKE 'h:%' AND CAST(substr(slot, 3) AS INTEGER) < ?", hour - 24 * 7);
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
    for (const e of executions) {
      this.sql.exec(
        `INSERT INTO executions (version, batch_size, count, ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (version, batch_size) DO UPDATE SET count = count + excluded.count, ms = ms + excluded.ms`,
        e.version, e.batch_size, e.count, e.ms);
    }
    for (const l of loads) {
      this.sql.exec(
        `INSERT INTO loads (version, cold, failed, last_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (version) DO UPDATE SET cold = cold + excluded.cold, failed = failed + excluded.failed, last_at = excluded.last_at`,
        l.version, l.cold, l.failed, now);
    }
  }

  /** Everything recorded of requests, loads and executions, every version. */
  requestStats(): { requests: RequestRow[]; loads: LoadRow[]; executions: ExecutionDelta[] } {
    const requests = this.sql
      .exec<{ version: number; tenant: string; outcome: string; count: number; latency: string; inference: string; last_at: string }>(
        "SELECT * FROM requests ORDER BY version, tenant, outcome")
      .toArray()
      .map((r) => ({ ...r, outcome: r.outcome as Outcome, latency: JSON.parse(r.latency) as Histogram, inference: JSON.parse(r.inference) as Histogram }));
    const loads = this.sql.exec<LoadRow & Record<string, string | number>>("SELECT * FROM loads ORDER BY version").toArray();
    const executions = this.sql.exec<ExecutionDelta & Record<string, number>>("SELECT * FROM executions ORDER BY version, batch_size").toArray();
    return { requests, loads, executions };
  }

  /**
   * The per-minute figures the alert windows read (kept a day), from `minutes` ago on, per version:
   * requests, errors (rate-limit refusals aside) and the latency histogram of each minute.
   */
  minuteSeries(minutes: number): { minute: number; version: number; count: number; errors: number; latency: Histogram }[] {
    const from = Math.floor(Date.now() / 60_000) - minutes + 1;
    return this.sql
      .exec<{ minute: number; version: number; count: number; errors: number; latency: string }>(
        "SELECT minute, version, count, errors, latency FROM minutes WHERE minute >= ? ORDER BY minute, version", from)
      .toArray()
      .map((r) => ({ ...r, latency: JSON.parse(r.latency) as Histogram }));
  }

  /**
   * Pins what `version` has been sent and answered in its kept windows (up to a week) as its drift
   * baseline, and starts the windows afresh. Returns how many tensors the baseline covers.
   */
  pinDriftBaseline(version: number): number {
    const rows = this.sql
      .exec<{ role: string; tensor: string; summary: string }>("SELECT role, tensor, summary FROM drift WHERE slot LIKE 'h:%' AND version = ?", version)
      .toArray();
    const merged = new Map<string, { role: string; tensor: string; summary: Summary }>();
    for (const r of rows) {
      const key = `${r.role}\u0000${r.tensor}`;
      const m = merged.get(key) ?? { role: r.role, tensor: r.tensor, summary: emptySummary() };
      mergeSummary(m.summary, JSON.parse(r.summary) as Summary);
      merged.set(key, m);
    }
    this.sql.exec("DELETE FROM drift WHERE version = ?", version);
    for (const m of merged.values()) {
      this.sql.exec("INSERT INTO drift (slot, version, role, tensor, summary) VALUES ('baseline', ?, ?, ?, ?)", version, m.role, m.tensor, JSON.stringify(m.summary));
    }
    this.sql.exec("INSERT OR REPLACE INTO drift_pins (version, pinned_at) VALUES (?, ?)", version, new Date().toISOString());
    return merged.size;
  }

  /**
   * Per version and tensor: the baseline, the traffic of the last `hours` hourly windows (since the
   * pin at most), and the drift score between them.
   */
  driftReport(hours = 24) {
    const from = Math.floor(Date.now() / 3_600_000) - Math.max(1, Math.ceil(hours)) + 1;
    const raw = this.sql
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
    const pins = new Map(this.sql.exec<{ version: number; pinned_at: string }>("SELECT * FROM drift_pins").toArray().map((p) => [p.version, p.pinned_at]));
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

  // ---- alerts ----

  private async config(model: string): Promise<ModelConfig> {
    const now = Date.now();
    if (this.configCache?.model === model && now - this.configCache.at < 10_000) return this.configCache.config;
    const text = await (await this.env.MODELS.get(`${model}/config.json`))?.text();
    const parsed = text === undefined ? { config: {} } : parseModelConfig(text);
    const config = "config" in parsed ? parsed.config : {};
    this.configCache = { model, at: now, config };
    return config;
  }

  private windowFigures(seconds: number): WindowFigures {
    const from = Math.floor(Date.now() / 60_000) - Math.ceil(seconds / 60) + 1;
    const rows = this.sql.exec<{ count: number; errors: number; latency: string }>("SELECT count, errors, latency FROM minutes WHERE minute >= ?", from).toArray();
    const latency = emptyHistogram();
    for (const r of rows) merge(latency, JSON.parse(r.latency) as Histogram);
    return { count: rows.reduce((n, r) => n + r.count, 0), errors: rows.reduce((n, r) => n + r.errors, 0), latency };
  }

  /** Checks every rule; a rule that starts breaching fires its webhook once, and re-arms on recovery. */
  private async evaluateAlerts(model: string): Promise<void> {
    const alerts = (await this.config(model)).alerts;
    if (!alerts) return;
    const reports = new Map<number, ReturnType<ModelStats["driftReport"]>>();
    const driftScore = (rule: AlertRule) => (tensor: string) => {
      const hours = Math.ceil((rule.window_seconds ?? 3600) / 3600);
      if (!reports.has(hours)) reports.set(hours, this.driftReport(hours));
      const scores = reports.get(hours)!.flatMap((v) => v.tensors.filter((t) => t.tensor === tensor && t.drift_score !== null).map((t) => t.drift_score!));
      return scores.length ? Math.max(...scores) : null;
    };
    const now = new Date().toISOString();
    for (const rule of alerts.rules) {
      const value = ruleValue(rule, this.windowFigures(rule.window_seconds ?? 300), driftScore(rule));
      const row = this.sql.exec<{ state: string }>("SELECT state FROM alerts WHERE name = ?", rule.name).toArray()[0];
      const firing = row?.state === "firing";
      const step = transition(firing, value, rule);
      if (!row) this.sql.exec("INSERT INTO alerts (name, metric, state) VALUES (?, ?, 'ok')", rule.name, rule.metric);
      this.sql.exec("UPDATE alerts SET value = ?, metric = ? WHERE name = ?", value, rule.metric, rule.name);
      if (step === "fire") {
        const payload = { model, rule: rule.name, metric: rule.metric, value, threshold: rule.above, window_seconds: rule.window_seconds ?? 300, state: "firing", at: now };
        this.sql.exec(
          "UPDATE alerts SET state = 'firing', since = ?, fired = fired + 1, pending = ?, attempts = 0, next_attempt_ms = ? WHERE name = ?",
          now, JSON.stringify({ url: alerts.webhook, payload }), Date.now(), rule.name);
      } else if (step === "recover") {
        this.sql.exec("UPDATE alerts SET state = 'ok', since = ? WHERE name = ?", now, rule.name);
      }
    }
    await this.deliver();
  }

  /** Sends every pending alert that is due; a failure is retried later with back-off (an alarm). */
  private async deliver(): Promise<void> {
    const due = this.sql
      .exec<{ name: string; pending: string; attempts: number }>("SELECT name, pending, attempts FROM alerts WHERE pending IS NOT NULL AND next_attempt_ms <= ?", Date.now())
      .toArray();
    // Claim them first: another call may run while this one awaits the webhook.
    for (const a of due) this.sql.exec("UPDATE alerts SET next_attempt_ms = ? WHERE name = ?", Date.now() + 60_000, a.name);
    for (const a of due) {
      const { url, payload } = JSON.parse(a.pending) as { url: string; payload: object };
      let error: string | null = null;
      try {
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), signal: AbortSignal.timeout(5000) });
        await res.body?.cancel();
        if (!res.ok) error = `webhook answered ${res.status}`;
      } catch (e) {
        error = `webhook unreachable: ${e instanceof Error ? e.message : String(e)}`;
      }
      if (error === null) {
        this.sql.exec("UPDATE alerts SET pending = NULL, attempts = 0, last_error = NULL, last_sent_at = ? WHERE name = ?", new Date().toISOString(), a.name);
      } else {
        const attempts = a.attempts + 1;
        const next = Date.now() + backoffSeconds(attempts) * 1000;
        this.sql.exec("UPDATE alerts SET attempts = ?, next_attempt_ms = ?, last_error = ? WHERE name = ?", attempts, next, error, a.name);
        const alarm = await this.ctx.storage.getAlarm();
        if (alarm === null || alarm > next) await this.ctx.storage.setAlarm(next);
      }
    }
  }

  /** Retries webhooks that failed. */
  override async alarm(): Promise<void> {
    await this.deliver();
  }

  /** Each rule's state: ok or firing, its last value, and its webhook's delivery. */
  alertStates() {
    return this.sql
      .exec<{ name: string; metric: string; state: string; value: number | null; since: string | null; fired: number; pending: string | null; attempts: number; last_error: string | null; last_sent_at: string | null }>(
        "SELECT * FROM alerts ORDER BY name")
      .toArray()
      .map((a) => ({ name: a.name, metric: a.metric, state: a.state, value: a.value, since: a.since, fired: a.fired, delivery_pending: a.pending !== null, attempts: a.attempts, last_error: a.last_error, last_sent_at: a.last_sent_at }));
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
