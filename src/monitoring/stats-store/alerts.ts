/**
 * @module monitoring/stats-store/alerts: each alert rule's state (ok or firing) and its webhook
 * waiting to be sent. Evaluating the rules queues a webhook; alert-delivery sends it.
 */
import type { ModelConfig } from "../../serving/config";
import { ruleValue, transition, type AlertRule, type WindowFigures } from "../alerts";
import type { DriftReport } from "./drift";
import type { Schema } from "../../storage/migrations";

/** The alerts table (alert-delivery reads it too); version 1 is the schema from before versioning. */
export const ALERTS_SCHEMA: Schema = {
  name: "alerts",
  migrations: [
    `
CREATE TABLE IF NOT EXISTS alerts (
  name TEXT PRIMARY KEY, metric TEXT NOT NULL, state TEXT NOT NULL, value REAL, since TEXT, fired INTEGER NOT NULL DEFAULT 0,
  pending TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER, last_error TEXT, last_sent_at TEXT)`,
  ],
};

/** The model's figures a rule is judged on. */
export interface AlertFigures {
  /** Requests of the last `seconds`, all versions. */
  window(seconds: number): WindowFigures;
  /** The drift report over the last `hours` hourly windows. */
  drift(hours: number): DriftReport;
}

/**
 * Checks every rule against the figures. A rule that starts breaching is marked firing and its
 * webhook queued, once; a rule that recovers re-arms.
 */
export function evaluateAlerts(sql: SqlStorage, model: string, alerts: NonNullable<ModelConfig["alerts"]>, figures: AlertFigures): void {
  const reports = new Map<number, DriftReport>();
  const driftScore = (rule: AlertRule) => (tensor: string) => {
    const hours = Math.ceil((rule.window_seconds ?? 3600) / 3600);
    if (!reports.has(hours)) reports.set(hours, figures.drift(hours));
    const scores = reports.get(hours)!.flatMap((v) => v.tensors.filter((t) => t.tensor === tensor && t.drift_score !== null).map((t) => t.drift_score!));
    return scores.length ? Math.max(...scores) : null;
  };
  // Rules often share a window: each window's figures are read from the table once.
  const windows = new Map<number, WindowFigures>();
  const windowOf = (seconds: number) => windows.get(seconds) ?? windows.set(seconds, figures.window(seconds)).get(seconds)!;
  const now = new Date().toISOString();
  for (const rule of alerts.rules) {
    const value = ruleValue(rule, windowOf(rule.window_seconds ?? 300), driftScore(rule));
    const row = sql.exec<{ state: string }>("SELECT state FROM alerts WHERE name = ?", rule.name).toArray()[0];
    const firing = row?.state === "firing";
    const step = transition(firing, value, rule);
    if (!row) sql.exec("INSERT INTO alerts (name, metric, state) VALUES (?, ?, 'ok')", rule.name, rule.metric);
    sql.exec("UPDATE alerts SET value = ?, metric = ? WHERE name = ?", value, rule.metric, rule.name);
    if (step === "fire") {
      const payload = { model, rule: rule.name, metric: rule.metric, value, threshold: rule.above, window_seconds: rule.window_seconds ?? 300, state: "firing", at: now };
      sql.exec(
        "UPDATE alerts SET state = 'firing', since = ?, fired = fired + 1, pending = ?, attempts = 0, next_attempt_ms = ? WHERE name = ?",
        now, JSON.stringify({ url: alerts.webhook, payload }), Date.now(), rule.name);
    } else if (step === "recover") {
      sql.exec("UPDATE alerts SET state = 'ok', since = ? WHERE name = ?", now, rule.name);
    }
  }
}

/** Each rule's state: ok or firing, its last value, and its webhook's delivery. */
export function alertStates(sql: SqlStorage) {
  return sql
    .exec<{ name: string; metric: string; state: string; value: number | null; since: string | null; fired: number; pending: string | null; attempts: number; last_error: string | null; last_sent_at: string | null }>(
      "SELECT * FROM alerts ORDER BY name")
    .toArray()
    .map((a) => ({ name: a.name, metric: a.metric, state: a.state, value: a.value, since: a.since, fired: a.fired, delivery_pending: a.pending !== null, attempts: a.attempts, last_error: a.last_error, last_sent_at: a.last_sent_at }));
}
