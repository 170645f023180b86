/** @module auth/middleware: Hono middleware that admits a tenant key or the admin token. */
import type { MiddlewareHandler } from "hono";
import { timed } from "../monitoring/timings";
import { deferrer } from "../defer";
import type { AppEnv } from "../env";
import { ServingError } from "../errors";
import { settings } from "../settings";
import { isAdminToken } from "./admin-token";
import { KEY_FORMAT, parseBearer, verifyKey } from "./api-keys";

const challenge = (error: string) => ({ "WWW-Authenticate": `Bearer realm="edge-inference", error="${error}"` });

/** A 401 with the Bearer challenge of RFC 6750. */
export function unauthenticated(message: string, error = "invalid_token"): ServingError {
  return new ServingError("unauthenticated", message, { headers: challenge(error) });
}

const MISSING = "missing API key: send 'Authorization: Bearer <key>'";
const ADMIN_TOKEN_AS_KEY =
  "this is the admin token, not an API key: protocol routes take a tenant's API key (eik_...), made with POST /admin/tenants/{tenant}/keys";
const KEY_AS_ADMIN_TOKEN = "this is a tenant API key, not the admin token: admin routes take the ADMIN_TOKEN secret";

/** Requires a valid tenant key; sets `caller`. The tenant's object then checks revocation and limits. */
export function apiKeyAuth(): MiddlewareHandler<AppEnv> {
  return async function apiKeyAuthHandler(c, next) {
    const bearer = parseBearer(c.req.header("Authorization"));
    if (bearer.kind === "missing") throw unauthenticated(MISSING, "invalid_request");
    if (bearer.kind === "malformed") throw unauthenticated("malformed Authorization header: expected 'Bearer <key>'", "invalid_request");
    const cacheMs = settings(c.env).KEY_CACHE_SECONDS * 1000;
    const result = await timed(c.get("timings"), "auth", verifyKey(c.var.core.keys, c.env.API_KEYS, bearer.token, cacheMs, Date.now(), deferrer(c)));
    if ((result.status === "malformed" || result.status === "not_found") && c.env.ADMIN_TOKEN && (await isAdminToken(bearer.token, c.env.ADMIN_TOKEN))) {
      throw unauthenticated(ADMIN_TOKEN_AS_KEY);
    }
    switch (result.status) {
      case "malformed":
        throw unauthenticated("malformed API key");
      case "not_found":
        throw unauthenticated("unknown API key");
      case "expired":
        throw unauthenticated("API key has expired");
      case "valid":
        c.set("caller", { tenant: result.tenant, keyId: result.keyId });
        await next();
    }
  };
}

/** Requires the admin token (the ADMIN_TOKEN secret). A tenant key never passes. */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuthHandler(c, next) {
    const expected = c.env.ADMIN_TOKEN;
    if (!expected) {
      throw new ServingError("unavailable", "the admin API is disabled: set the ADMIN_TOKEN secret");
    }
    const bearer = parseBearer(c.req.header("Authorization"));
    if (bearer.kind === "missing") throw unauthenticated("missing admin token: send 'Authorization: Bearer <token>'", "invalid_request");
    if (bearer.kind === "malformed") throw unauthenticated("malformed Authorization header: expected 'Bearer <token>'", "invalid_request");
    if (!(await isAdminToken(bearer.token, expected))) throw unauthenticated(KEY_FORMAT.test(bearer.token) ? KEY_AS_ADMIN_TOKEN : "wrong admin token");
    await next();
  };
}
