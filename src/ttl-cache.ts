/** @module ttl-cache: isolate-local values that expire, loaded single-flight. */

/**
 * Caches the promise of a value for `ttlMs`, so concurrent callers share one load and a failed
 * load is not cached. Bounded by entry count (oldest dropped first).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { expires: number; value: Promise<V> }>();
  constructor(
    private readonly maxEntries = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value for `key`, or the result of `load()` (shared with concurrent callers). */
  get(key: string, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { expires: this.now() + ttlMs, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  /** Forgets `key`, so the next get loads afresh. */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
