/**
 * @module serving/response-cache: a model's answers kept for its config's `response_cache.ttl_seconds`,
 * looked up in the isolate first (ResponseLru, bounded by RESPONSE_CACHE_MAX_BYTES) and in the data
 * centre's Cache API second. Outputs are kept as tensors, not as an encoded response, so a JSON
 * request and a binary one (or a TF Serving one) are each answered in their own format from one entry.
 * The key names the model, the version and its etag, so a new or replaced version never answers
 * from an old one's entries.
 */
import { fromBinary, toBinary } from "../tensor/binary";
import type { Datatype } from "../tensor/datatype";
import { frameBody, splitBody } from "../tensor/kserve-binary";
import type { Tensor } from "../tensor/tensor";
import type { ResponseLru } from "./response-lru";

/** Where a cached answer was found. */
export type CacheTier = "isolate" | "data-centre";

/** The entry a request's answer is kept under. */
export interface ResponseKey {
  model: string;
  version: number;
  etag: string;
  /** Whose answers these are: the tenant's name, or "" for answers shared by every tenant. */
  tenant: string;
  /** The canonical request's hash (serving/response-key). */
  hash: string;
}

/** The synthetic URL an answer is kept under in the Cache API. Never fetched: only a key. */
export const responseCacheUrl = (k: ResponseKey): string =>
  `https://response-cache.internal/${encodeURIComponent(k.model)}/${k.version}/${encodeURIComponent(k.etag)}/${k.tenant ? `t-${encodeURIComponent(k.tenant)}` : "shared"}/${k.hash}`;

/** Bytes an entry is counted as besides its tensors' elements: the key, the objects, the map's slot. */
const ENTRY_OVERHEAD = 256;
const TENSOR_OVERHEAD = 128;

/** The estimated bytes an entry holds in the isolate. */
function entryBytes(outputs: readonly Tensor[]): number {
  let bytes = ENTRY_OVERHEAD;
  for (const t of outputs) {
    bytes += TENSOR_OVERHEAD + t.name.length * 2;
    bytes += Array.isArray(t.data) ? t.data.reduce((n, s) => n + 16 + s.length * 2, 0) : t.data.byteLength;
  }
  return bytes;
}

/**
 * A tensor holding only its own elements: a run's output may be a view of a whole batch's, which
 * an entry must not keep alive. One that owns its buffer is kept as it is (nothing writes to it).
 */
function owned(t: Tensor): Tensor {
  if (Array.isArray(t.data) || (t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength)) return t;
  return { ...t, data: t.data.slice() };
}

/** The isolate's tier: every cached model's answers in this isolate (one per isolate, in its core). */
export type IsolateResponses = ResponseLru<Tensor[]>;

/** The header of a Cache API entry's framed body: the JSON part's length. */
const HEAD_LENGTH = "x-head-length";

interface StoredHead {
  expires_at: number;
  outputs: { name: string; datatype: Datatype; shape: number[]; size: number }[];
}

/** An answer as a Cache API entry: a JSON head (outputs and expiry) then each output's bytes. */
function toResponse(outputs: readonly Tensor[], expiresAt: number, ttlSeconds: number): Response {
  const binaries = outputs.map(toBinary);
  const head: StoredHead = { expires_at: expiresAt, outputs: outputs.map((t, i) => ({ name: t.name, datatype: t.datatype, shape: t.shape, size: binaries[i]!.byteLength })) };
  const framed = frameBody(head, binaries);
  return new Response(framed.body as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": "application/octet-stream", "cache-control": `public, max-age=${ttlSeconds}`, [HEAD_LENGTH]: String(framed.headerLength) },
  });
}

/** The answer a Cache API entry holds, or null when it is unreadable or expired. */
async function fromResponse(res: Response, now: number): Promise<{ outputs: Tensor[]; expiresAt: number } | null> {
  const split = splitBody(new Uint8Array(await res.arrayBuffer()), res.headers.get(HEAD_LENGTH) ?? "");
  if (split.kind !== "json") return null;
  const head = split.json as StoredHead;
  if (!(head.expires_at > now)) return null;
  let at = 0;
  const outputs = head.outputs.map((o) => {
    const t = fromBinary(o.name, o.datatype, o.shape, split.binary.slice(at, at + o.size));
    at += o.size;
    return t;
  });
  return { outputs, expiresAt: head.expires_at };
}

/** An answer found in the cache. */
export interface CachedAnswer {
  outputs: Tensor[];
  tier: CacheTier;
  /** Seconds it stays fresh. */
  ttlSeconds: number;
}

/** The response cache for one request: the isolate's tier, and the data centre's when there is one. */
export class ResponseCache {
  constructor(
    private readonly lru: IsolateResponses,
    private readonly cache: Cache | undefined,
    /** Runs work after the response (waitUntil), so filling the Cache API never delays an answer. */
    private readonly defer: (work: Promise<unknown>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** With the data centre's default cache, when the runtime has one. */
  static open(lru: IsolateResponses, defer: (work: Promise<unknown>) => void): ResponseCache {
    return new ResponseCache(lru, typeof caches !== "undefined" ? caches.default : undefined, defer);
  }

  /** The answer kept under `key`, or null. A failure of the Cache API is a miss, never an error. */
  async lookup(key: ResponseKey): Promise<CachedAnswer | null> {
    const url = responseCacheUrl(key);
    const now = this.now();
    const local = this.lru.get(url);
    if (local) return { outputs: local.value, tier: "isolate", ttlSeconds: Math.max(0, Math.floor((local.expiresAt - now) / 1000)) };
    if (!this.cache) return null;
    try {
      const res = await this.cache.match(url);
      const found = res ? await fromResponse(res, now) : null;
      if (!found) return null;
      this.lru.set(url, found.outputs, entryBytes(found.outputs), found.expiresAt);
      return { outputs: found.outputs, tier: "data-centre", ttlSeconds: Math.max(0, Math.floor((found.expiresAt - now) / 1000)) };
    } catch {
      return null;
    }
  }

  /**
   * Keeps `outputs` under `key` for `ttlSeconds`: in the isolate now, in the Cache API after the
   * response. An answer larger than the isolate's whole bound is kept in neither (false): its copy
   * would take memory the isolate does not have to spare.
   */
  store(key: ResponseKey, outputs: readonly Tensor[], ttlSeconds: number): boolean {
    const bytes = entryBytes(outputs);
    if (bytes > this.lru.status().max_bytes) return false;
    const url = responseCacheUrl(key);
    const expiresAt = this.now() + ttlSeconds * 1000;
    const kept = outputs.map(owned);
    this.lru.set(url, kept, bytes, expiresAt);
    if (!this.cache) return true;
    const cache = this.cache;
    // Not awaited: the request's answer never waits on the Cache API.
    this.defer(Promise.resolve().then(() => cache.put(url, toResponse(kept, expiresAt, ttlSeconds))).catch(() => undefined));
    return true;
  }
}
