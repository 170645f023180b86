/** @module http/metrics: GET /metrics, every model's request statistics in Prometheus' text format. */
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { flushNow } from "../monitoring/stats-flush";
import { prometheusText } from "../monitoring/stats-view";
import { adminErrors } from "./error-response";
import { adminDocs } from "./openapi/admin-docs";

/** The route under /metrics, behind `admission` (the admin token), its errors as the admin API's. */
export const metrics = (admission: MiddlewareHandler<AppEnv>) =>
  new Hono<AppEnv>()
    .get("/", adminDocs.metrics, admission, async (c) => {
      await flushNow(c);
      const names = await c.get("service").models.models();
      const models = await Promise.all(
        names.map(async (model) => ({ model, ...(await c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model)).requestStats()) })),
      );
      return c.text(prometheusText(models.map((m) => ({ model: m.model, rows: m.requests, loads: m.loads, executions: m.executions, cache: m.cache }))), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      });
    })
    .onError(adminErrors);
