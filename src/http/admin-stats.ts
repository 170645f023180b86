/**
 * @module http/admin-stats: a model's statistics for operators (admin token only): the totals the
 * KServe stats route shows a tenant, and the per-minute series the alert windows read, so a
 * console can chart requests, errors and latency over the last hours without a tenant key.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { invalid } from "../errors";
import { quantile } from "../monitoring/histogram";
import { flushNow } from "../monitoring/request-log";
import { modelStatsJson } from "../monitoring/stats-view";
import { parseModelName } from "../serving/names";

/** Routes under /admin/models: GET /{model}/stats[?minutes=60]. */
export const adminStats = new Hono<AppEnv>().get("/:model/stats", async (c) => {
  const model = parseModelName(c.req.param("model"));
  const raw = c.req.query("minutes") ?? "60";
  // The object keeps a day of minutes.
  if (!/^[1-9][0-9]{0,3}$/.test(raw) || Number(raw) > 1440) throw invalid("minutes is a whole number, 1 to 1440");
  await flushNow(c);
  const stub = c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model));
  const [{ requests, loads, executions }, series] = await Promise.all([stub.requestStats(), stub.minuteSeries(Number(raw))]);
  return c.json({
    model,
    ...modelStatsJson(model, requests, loads, undefined, executions),
    minutes: series.map((m) => ({
      at: new Date(m.minute * 60_000).toISOString(),
      version: m.version,
      count: m.count,
      errors: m.errors,
      latency_ms: { p50: quantile(m.latency, 0.5), p90: quantile(m.latency, 0.9), p99: quantile(m.latency, 0.99) },
    })),
  });
});
