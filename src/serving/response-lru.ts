/**
 * @module serving/response-lru: the isolate's tier of the response cache. Entries expire at their
 * own time and the whole is bounded by estimated bytes, least recently used evicted first. Pure.
 */

interface Entry<V> {
  value: V;
  bytes: number;
  expiresAt: number;
}

/** What the isolate's response cache holds, for /admin/isolate. */
export interface ResponseLruStatus {
  entries: number;
  bytes: number;
  max_bytes: number;
  /** Entries dropped to make room (not those that expired). */
  evictions: number;
}

/** A least-recently-used map bounded by the bytes its entries are estimated to take. */
export class ResponseLru<V> {
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  private readonly entries = new Map<string, Entry<V>>();
  private used = 0;
  private evicted = 0;

  constructor(
    private maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Changes the bound, evicting what no longer fits. */
  configure(maxBytes: number): void {
    if (maxBytes === this.maxBytes) return;
    this.maxBytes = maxBytes;
    this.evictTo(maxBytes);
  }

  /** The entry under `key` and when it expires, marked as just used; undefined when absent or expired. */
  get(key: string): { value: V; expiresAt: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      this.used -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return { value: entry.value, expiresAt: entry.expiresAt };
  }

  /** Keeps `value` until `expiresAt`; false (nothing kept) when it alone is larger than the bound. */
  set(key: string, value: V, bytes: number, expiresAt: number): boolean {
    this.delete(key);
    if (bytes > this.maxBytes) return false;
    this.evictTo(this.maxBytes - bytes);
    this.entries.set(key, { value, bytes, expiresAt });
    this.used += bytes;
    return true;
  }

  /** Forgets `key`. */
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.used -= entry.bytes;
  }

  status(): ResponseLruStatus {
    return { entries: this.entries.size, bytes: this.used, max_bytes: this.maxBytes, evictions: this.evicted };
  }

  /** Drops entries, expired ones first and then the least recently used, until at most `bytes` are held. */
  private evictTo(bytes: number): void {
    if (this.used <= bytes) return;
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) continue;
      this.entries.delete(key);
      this.used -= entry.bytes;
    }
    for (const [key, entry] of this.entries) {
      if (this.used <= bytes) break;
      this.entries.delete(key);
      this.used -= entry.bytes;
      this.evicted++;
    }
  }
}
