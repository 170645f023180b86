/**
 * @module monitoring/stats-store/alert-delivery: sends the webhooks that alert evaluation queued
 * in the alerts table. A failure is retried with back-off, on the object's alarm.
 */
import { backoffSeconds } from "../alerts";

/** Sends every queued webhook that is due; a failure sets the next attempt and the alarm. */
export async function deliverAlerts(sql: SqlStorage, storage: DurableObjectStorage): Promise<void> {
  const due = sql
    .exec<{ name: string; pending: string; attempts: number }>("SELECT name, pending, attempts FROM alerts WHERE pending IS NOT NULL AND next_attempt_ms <= ?", Date.now())
    .toArray();
  // Claim them first: another call may run while this one awaits the webhook.
  for (const a of due) sql.exec("UPDATE alerts SET next_attempt_ms = ? WHERE name = ?", Date.now() + 60_000, a.name);
  for (const a of due) {
    const { url, payload } = JSON.parse(a.pending) as { url: string; payload: object };
    const error = await post(url, payload);
    if (error === null) {
      sql.exec("UPDATE alerts SET pending = NULL, attempts = 0, last_error = NULL, last_sent_at = ? WHERE name = ?", new Date().toISOString(), a.name);
    } else {
      const attempts = a.attempts + 1;
      const next = Date.now() + backoffSeconds(attempts) * 1000;
      sql.exec("UPDATE alerts SET attempts = ?, next_attempt_ms = ?, last_error = ? WHERE name = ?", attempts, next, error, a.name);
      const alarm = await storage.getAlarm();
      if (alarm === null || alarm > next) await storage.setAlarm(next);
    }
  }
}

/** Posts one webhook; returns what went wrong, or null when it was accepted. */
async function post(url: string, payload: object): Promise<string | null> {
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return res.ok ? null : `webhook answered ${res.status}`;
  } catch (e) {
    return `webhook unreachable: ${e instanceof Error ? e.message : String(e)}`;
  }
}
