/**
 * @module http/error-response: how each API renders an error. KServe V2 and TF Serving answer
 * `{"error"}` (their specs' shape), the app's own onError; the admin API and /metrics answer
 * `{"error", "code"}`, their sub-apps' onError. Also the 404 each sub-app gives for a path none of its routes serves.
 */
import type { ErrorHandler, Handler } from "hono";
import type { AppEnv } from "../env";
import { ServingError } from "../errors";

function renderer(withCode: boolean): ErrorHandler<AppEnv> {
  return function renderError(err, c) {
    if (err instanceof ServingError) {
      return c.json(withCode ? { error: err.message, code: err.code } : { error: err.message }, err.status, err.headers);
    }
    // Unexpected: log what failed, never headers or bodies (they may hold keys or payloads).
    console.error(JSON.stringify({ level: "error", method: c.req.method, path: c.req.path, error: String(err.stack ?? err) }));
    return c.json(withCode ? { error: "internal error", code: "internal" } : { error: "internal error" }, 500);
  };
}

/** `{"error": "..."}`: the protocols' shape. */
export const protocolErrors = renderer(false);

/** `{"error": "...", "code": "..."}`: the admin API's shape. */
export const adminErrors = renderer(true);

/** The last route of a sub-app: a path none of its routes serves is a 404 in the sub-app's shape. */
export const noRoute: Handler<AppEnv> = (c) => {
  throw new ServingError("not_found", `no route for ${c.req.method} ${c.req.path}`);
};
