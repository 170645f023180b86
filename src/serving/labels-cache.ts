/**
 * @module serving/labels-cache: parsed labels files kept in an isolate, by a key naming immutable
 * bytes (model, file, etag): loaded once for concurrent callers, the least recently used dropped
 * past a bound of file bytes. A failed load is not kept.
 */
export class LabelsCache {
  private readonly entries = new Map<string, { labels: Promise<string[]>; bytes: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes of the files whose labels are kept. */
  get bytes(): number {
    return this.total;
  }

  /** The labels under `key`, or those `load` reads (with the file's size). */
  get(key: string, load: () => Promise<{ labels: string[]; bytes: number }>): Promise<string[]> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.labels;
    }
    const entry = { labels: Promise.resolve<string[]>([]), bytes: 0 };
    entry.labels = load().then(
      ({ labels, bytes }) => {
        if (this.entries.get(key) === entry) {
          entry.bytes = bytes;
          this.total += bytes;
          this.evict(key);
        }
        return labels;
      },
      (e: unknown) => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw e;
      },
    );
    this.entries.set(key, entry);
    return entry.labels;
  }

  /** Drops the least recently used entries, but `keep`, until the bound holds. */
  private evict(keep: string): void {
    for (const [key, e] of this.entries) {
      if (this.total <= this.maxBytes) return;
      if (key === keep) continue;
      this.entries.delete(key);
      this.total -= e.bytes;
    }
  }
}
