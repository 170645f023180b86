/**
 * @module http/admin-stats: a model's statistics for operators (admin token only): the totals the
 * KServe stats route shows a tenant, and the per-minute series the alert windows read, so a
 * console can chart requests, errors and latency over the last hours without a tenant key.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { adminDocs as docs } from "./openapi/admin-docs";
import { invalid } from "../errors";
import { emptyHistogram, merge, quantile, type Histogram } from "../monitoring/histogram";
import { flushNow } from "../monitoring/stats-flush";
import { modelStatsJson } from "../monitoring/stats-view";
import { parseModelName } from "../serving/names";

const percentiles = (h: Histogram) => ({ p50: quantile(h, 0.5), p90: quantile(h, 0.9), p99: quantile(h, 0.99) });

/** Routes under /admin/models: GET /{model}/stats[?minutes=60]. */
export const adminStats = new Hono<AppEnv>().get("/:model/stats", docs.modelStats, async (c) => {
  const model = parseModelName(c.req.param("model"));
  const raw = c.req.query("minutes") ?? "60";
  // The object keeps a day of minutes.
  if (!/^[1-9][0-9]{0,3}$/.test(raw) || Number(raw) > 1440) throw invalid("minutes is a whole number, 1 to 1440");
  await flushNow(c);
  const stub = c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model));
  const [{ requests, loads, executions, cache }, rows] = await Promise.all([stub.requestStats(), stub.minuteSeries(Number(raw))]);
  // Versions merged per minute (percentiles need the histograms), and over the whole window.
  const byMinute = new Map<number, { count: number; errors: number; latency: Histogram; by_version: Record<string, { count: number; errors: number }> }>();
  const window = { count: 0, errors: 0, latency: emptyHistogram() };
  for (const r of rows) {
    const m = byMinute.get(r.minute) ?? { count: 0, errors: 0, latency: emptyHistogram(), by_version: {} };
    m.count += r.count;
    m.errors += r.errors;
    merge(m.latency, r.latency);
    m.by_version[String(r.version)] = { count: r.count, errors: r.errors };
    byMinute.set(r.minute, m);
    window.count += r.count;
    window.errors += r.errors;
    merge(window.latency, r.latency);
  }
  return c.json({
    model,
    ...modelStatsJson(model, requests, loads, undefined, executions, cache),
    window: {
      minutes: Number(raw),
      count: window.count,
      errors: window.errors,
      error_rate: window.count ? Math.round((window.errors / window.count) * 10_000) / 10_000 : null,
      latency_ms: percentiles(window.latency),
    },
    minutes: [...byMinute].map(([minute, m]) => ({
      at: new Date(minute * 60_000).toISOString(),
      count: m.count,
      errors: m.errors,
      latency_ms: percentiles(m.latency),
      by_version: m.by_version,
    })),
  });
});
