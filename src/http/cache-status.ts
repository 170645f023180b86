/**
 * @module http/cache-status: the response cache in HTTP's terms. A request's `Cache-Control`
 * (`no-cache`: do not answer from the cache; `no-store`: do not keep this answer) and the
 * `Cache-Status` response header (RFC 9211) every prediction of a cached model carries.
 */
import type { CacheDirectives, CacheOutcome } from "../serving/cached-answer";
import type { Context } from "hono";
import type { AppEnv } from "../env";

/** The cache's name in Cache-Status. */
export const CACHE_NAME = "edge-inference";

/**
 * A request's cache directives: those of its Cache-Control (and the older `Pragma: no-cache`, when
 * there is no Cache-Control) that the cache honours, and its caller's tenant.
 */
export function cacheDirectives(headers: { cacheControl?: string; pragma?: string }, tenant: string | undefined): CacheDirectives {
  const { cacheControl, pragma } = headers;
  const directives = new Set((cacheControl ?? "").split(",").map((d) => d.trim().toLowerCase().split("=")[0]));
  const noCache = directives.has("no-cache") || (cacheControl === undefined && pragma?.trim().toLowerCase() === "no-cache");
  return { lookup: !noCache, store: !directives.has("no-store"), tenant };
}

/** A request's cache directives, from its headers and its caller: what every protocol's handler passes on. */
export const requestCacheDirectives = (c: Context<AppEnv>): CacheDirectives =>
  cacheDirectives({ cacheControl: c.req.header("cache-control"), pragma: c.req.header("pragma") }, c.get("caller")?.tenant);

/**
 * The Cache-Status value for what the cache did: `hit` (with the seconds it stays fresh, and the
 * tier it came from as `detail`), or the reason it went to the model (`fwd=miss`, or `fwd=request`
 * when the request said `no-cache`), with `stored` when the answer was kept.
 */
export function cacheStatus(outcome: CacheOutcome): string {
  if (outcome.lookup === "hit") return `${CACHE_NAME}; hit; ttl=${outcome.ttlSeconds}; detail=${outcome.tier}`;
  return `${CACHE_NAME}; fwd=${outcome.lookup}${outcome.stored ? "; stored" : ""}`;
}

/** The Cache-Status header of a prediction, when its model has a response cache. */
export function cacheHeaders(outcome: CacheOutcome | undefined): Record<string, string> {
  return outcome ? { "Cache-Status": cacheStatus(outcome) } : {};
}
