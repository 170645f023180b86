/**
 * @module serving/cached-answer: a checked request looked up in the response cache, for a model
 * whose config has `response_cache`: the answer on a hit, and the key to keep a fresh one under.
 */
import type { Tensor } from "../tensor/tensor";
import type { ServingObserver } from "./observer";
import type { ModelSnapshot, VersionEntry } from "./repository";
import type { CacheTier, ResponseCache, ResponseKey } from "./response-cache";
import { requestHash } from "./response-key";

/**
 * What the response cache did for a request: answered it (`hit`), or let it run after a lookup
 * (`miss`) or without one (`request`: the request asked so), and whether its answer was kept.
 */
export type CacheOutcome =
  | { lookup: "hit"; tier: CacheTier; ttlSeconds: number; ms: number }
  | { lookup: "miss" | "request"; stored: boolean; ms: number };

/** A response cache lookup: the key to keep the answer under, and the cached outputs on a hit. */
export type CacheLookup =
  | { key: ResponseKey; hit: Tensor[]; outcome: Extract<CacheOutcome, { lookup: "hit" }> }
  | { key: ResponseKey; hit?: undefined; outcome: Extract<CacheOutcome, { lookup: "miss" | "request" }> };

/** A request's cache directives: whether a cached answer may be used, and whether its own may be kept. */
export interface CacheDirectives {
  lookup: boolean;
  store: boolean;
  /** The caller's tenant, whose answers are kept apart from other tenants' unless the model's config shares them. */
  tenant?: string;
}

/** The request as the lookup needs it: its inputs, and each requested output's parameters. */
interface Asked {
  inputs: readonly Tensor[];
  outputParameters?: Readonly<Record<string, Record<string, unknown>>>;
}

/**
 * Looks a checked request up in the response cache (unless its directives say not to), counting
 * the lookup: the outputs in `fetched`'s order on a hit, and the key to keep the answer under.
 */
export async function cachedAnswer(
  responses: ResponseCache,
  observer: ServingObserver,
  served: { snapshot: ModelSnapshot; entry: VersionEntry },
  request: Asked,
  fetched: readonly string[],
  directives: CacheDirectives,
): Promise<CacheLookup> {
  const started = performance.now();
  const outputs = fetched.map((name) => ({ name, parameters: request.outputParameters?.[name] }));
  const tenant = served.snapshot.config.response_cache?.scope === "model" ? "" : (directives.tenant ?? "");
  const key: ResponseKey = { model: served.snapshot.name, version: served.entry.version, etag: served.entry.etag, tenant, hash: await requestHash(request.inputs, outputs) };
  if (!directives.lookup) return { key, outcome: { lookup: "request", stored: false, ms: performance.now() - started } };
  const found = await responses.lookup(key);
  const hit = found ? fetched.map((name) => found.outputs.find((t) => t.name === name)) : [];
  const ms = performance.now() - started;
  const usable = found !== null && hit.every((t) => t !== undefined);
  observer.cache?.(key.model, key.version, usable, ms);
  if (!usable) return { key, outcome: { lookup: "miss", stored: false, ms } };
  return { key, hit: hit as Tensor[], outcome: { lookup: "hit", tier: found.tier, ttlSeconds: found.ttlSeconds, ms } };
}
