/**
 * @module monitoring/request-log: every request gets an id (the caller's `X-Request-Id` when it is
 * a sane token, else a new UUID) echoed in the response, a `Server-Timing` header with its phases,
 * and one JSON log line (every response's, only refused and failed ones', or none: REQUEST_LOG): id,
 * method, path, status, tenant, model, version, phase timings and byte counts. Never a key, a
 * token, a query string or a payload.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { settings, type Settings } from "../settings";
import { writeAnalytics } from "./analytics";
import { outcomeOf } from "./histogram";
import { flushStats } from "./stats-flush";
import { Timings } from "./timings";

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
      c.var.core.stats.buffer.request(served.model, served.version, caller?.tenant ?? "", outcome, ms.total!, ms.inference ?? null);
      writeAnalytics(c.env, { model: served.model, version: served.version, tenant: caller?.tenant ?? "", outcome, status: c.res.status, ms, bytesIn: Number.isFinite(bytesIn) ? bytesIn : 0 });
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
