/**
 * @module serving/bytes-cache: the data centre's tier between isolate memory and R2. Model bytes
 * are kept in the Cache API under a key naming model, version and etag, so a fresh isolate in a
 * data centre that served the model recently reads them from cache rather than R2. An etag names
 * bytes exactly, so entries never need invalidating; a replaced object simply gets a new key.
 */

/** Where a version's bytes were read from. */
export type BytesSource = "cache" | "r2";

/** Cache API entries live this long (they are immutable; the cache evicts them earlier under pressure). */
const MAX_AGE_SECONDS = 30 * 86400;

/** The synthetic URL a version's bytes are cached under. Never fetched: only a cache key. */
export const cacheUrl = (model: string, version: number, etag: string): string =>
  `https://model-bytes.internal/${encodeURIComponent(model)}/${version}/${encodeURIComponent(etag)}`;

/** The Cache API tier. Without a Cache API (or when disabled) every lookup misses and puts do nothing. */
export class BytesCache {
  constructor(
    private readonly cache: Cache | undefined,
    /** Runs work after the response (waitUntil), so filling the cache never delays a request. */
    private readonly defer: (work: Promise<unknown>) => void,
  ) {}

  /** The default cache of this data centre, when the runtime has one and `enabled`. */
  static open(enabled: boolean, defer: (work: Promise<unknown>) => void): BytesCache {
    const cache = enabled && typeof caches !== "undefined" ? caches.default : undefined;
    return new BytesCache(cache, defer);
  }

  /** The cached bytes, or null on a miss (a cache failure is a miss, never an error). */
  async get(model: string, version: number, etag: string): Promise<Uint8Array | null> {
    if (!this.cache) return null;
    try {
      const hit = await this.cache.match(cacheUrl(model, version, etag));
      return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
    } catch {
      return null;
    }
  }

  /** Stores bytes read from R2, after the response. */
  put(model: string, version: number, etag: string, bytes: Uint8Array): void {
    if (!this.cache) return;
    const response = new Response(bytes, {
      headers: {
        "content-type": "application/octet-stream",
        "cache-control": `public, max-age=${MAX_AGE_SECONDS}, immutable`,
        etag: `"${etag}"`,
      },
    });
    this.defer(this.cache.put(cacheUrl(model, version, etag), response).catch(() => undefined));
  }
}
