/**
 * @module serving/inbound: how many inference requests are on their way to a version in this
 * isolate: routed, but still reading or decoding their bodies. A dynamic batch waits for them
 * (up to its delay) instead of a fixed time, so a lone request is not held back for nothing.
 */

/** One request's place in the count; `done` is idempotent. */
export interface Arrival {
  /** Stops counting this request (it reached its run, or failed). */
  done(): void;
  /** Other requests still on their way to the same version. */
  others(): number;
}

/** Counts of requests on their way, by key (model and version). */
export class Inbound {
  private readonly counts = new Map<string, number>();

  /** Counts a request for `key` until its `done`. */
  arrive(key: string): Arrival {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let counted = true;
    return {
      done: () => {
        if (!counted) return;
        counted = false;
        const left = (this.counts.get(key) ?? 1) - 1;
        if (left > 0) this.counts.set(key, left);
        else this.counts.delete(key);
      },
      others: () => (this.counts.get(key) ?? 0) - (counted ? 1 : 0),
    };
  }
}
