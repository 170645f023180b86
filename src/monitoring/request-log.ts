/**
 * @module monitoring/request-log: every request gets an id (the caller's `X-Request-Id` when it is
 * a sane token, else a new UUID) echoed in the response, a `Server-Timing` header with its phases,
 * and one JSON log line (every response's, only refused and failed ones', or none: REQUEST_LOG): id,
 * method, path, status, tenant, model, version, phase timings and byte counts. Never a key, a
 * token, a query string or a payload.
 */
import type { Context, MiddlewareHandler } from "hono";
import { deferrer } from "../defer";
import type { AppEnv } from "../env";
import { settings, type Settings } from "../settings";
import { outcomeOf } from "./histogram";
import { StatsBuffer } from "./stats-buffer";
import { Timings } from "./timings";

/** The isolate's request statistics, flushed to each model's statistics object. */
export const isolateStats = new StatsBuffer();

/** Header carrying the request id, both ways. */
export const REQUEST_ID_HEADER = "X-Request-Id";
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id to use: the caller's if sane, else a new one. */
export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && SANE_ID.test(header) ? header : crypto.randomUUID();
}

/** The first middleware: sets `requestId` and `timings`, then decorates and logs the response. */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLogHandler(c, next) {
    const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    const timings = new Timings();
    c.set("requestId", id);
    c.set("timings", timings);
    await next();
    const ms = timings.toJSON();
    c.res.headers.set(REQUEST_ID_HEADER, id);
    c.res.headers.set("Server-Timing", timings.header(ms));
    const caller = c.get("caller");
    const served = c.get("served");
    const bytesIn = Number(c.req.header("content-length") ?? NaN);
    const bytesOut = Number(c.res.headers.get("content-length") ?? NaN);
    if (served?.inference) {
      const outcome = outcomeOf(c.res.status);
      isolateStats.request(served.model, served.version, caller?.tenant ?? "", outcome, ms.total!, ms.inference ?? null);
      // Optional: a deployment without the binding writes none.
      const analytics = (c.env as { ANALYTICS?: AnalyticsEngineDataset }).ANALYTICS;
      analytics?.writeDataPoint(analyticsPoint({ model: served.model, version: served.version, tenant: caller?.tenant ?? "", outcome, status: c.res.status, ms, bytesIn: Number.isFinite(bytesIn) ? bytesIn : 0 }));
    }
    flushStats(c);
    if (!writesLogLine(settings(c.env).REQUEST_LOG, c.res.status)) return;
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        event: "request",
        request_id: id,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        tenant: caller?.tenant ?? null,
        model: served?.model ?? null,
        version: served?.version ?? null,
        ms,
        bytes_in: Number.isFinite(bytesIn) ? bytesIn : null,
        bytes_out: Number.isFinite(bytesOut) ? bytesOut : null,
      }),
    );
  };
}

/**
 * Whether a response gets its log line under the REQUEST_LOG setting: "on" every response,
 * "errors" only refused and failed ones (status 400 and up), "off" none.
 */
function writesLogLine(mode: Settings["REQUEST_LOG"], status: number): boolean {
  return mode === "off" ? false : mode === "errors" ? status >= 400 : true;
}

let flushScheduled = false;

const defer = (c: Context<AppEnv>, work: Promise<unknown>) => deferrer(c)(work);

/** Sends the taken deltas to each model's statistics object; a failed send is kept for the next. */
function send(c: Context<AppEnv>, taken: NonNullable<ReturnType<StatsBuffer["take"]>>): Promise<unknown> {
  return Promise.all(
    [...taken].map(([model, deltas]) =>
      c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model))
        .recordRequests(deltas.requests, deltas.loads, deltas.drift, model, deltas.executions)
        .catch(() => isolateStats.putBack(model, deltas)),
    ),
  );
}

/**
 * After a response: sends what the isolate buffered if the flush interval has passed; otherwise
 * makes sure one flush is scheduled for when it has (inside this request's waitUntil), so counts
 * never wait for a later request to be sent.
 */
function flushStats(c: Context<AppEnv>): void {
  const intervalMs = settings(c.env).STATS_FLUSH_MS;
  const taken = isolateStats.take(Date.now(), intervalMs);
  if (taken) {
    defer(c, send(c, taken));
    return;
  }
  if (flushScheduled || isolateStats.empty) return;
  flushScheduled = true;
  defer(
    c,
    new Promise((resolve) => setTimeout(resolve, intervalMs)).then(() => {
      flushScheduled = false;
      const later = isolateStats.take(Date.now(), intervalMs);
      return later ? send(c, later) : undefined;
    }),
  );
}

/** Sends everything buffered now (before reading statistics, so this isolate's own are included). */
export async function flushNow(c: Context<AppEnv>): Promise<void> {
  const taken = isolateStats.take(Date.now(), 0);
  if (taken) await send(c, taken);
}

/**
 * A prediction as a Workers Analytics Engine data point. Blobs: model, version, tenant, outcome;
 * doubles: total ms, inference ms, status, request bytes; index: the model (the sampling key).
 */
export function analyticsPoint(p: { model: string; version: number; tenant: string; outcome: string; status: number; ms: Record<string, number>; bytesIn: number }): AnalyticsEngineDataPoint {
  return {
    indexes: [p.model],
    blobs: [p.model, String(p.version), p.tenant, p.outcome],
    doubles: [p.ms.total ?? 0, p.ms.inference ?? 0, p.status, p.bytesIn],
  };
}
