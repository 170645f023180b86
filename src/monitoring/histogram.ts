/**
 * @module monitoring/histogram: fixed-bucket latency histograms (Prometheus style, cumulative on
 * export) and the per-request deltas isolates send to a model's statistics object. Pure.
 */

/** Upper bounds of the buckets, milliseconds; a last, unbounded bucket follows. */
export const BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

/** Counts per bucket (BUCKETS_MS.length + 1, the last for larger values), their sum and count. */
export interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export const emptyHistogram = (): Histogram => ({ counts: new Array<number>(BUCKETS_MS.length + 1).fill(0), sum: 0, count: 0 });

/** Adds one observation. */
export function observe(h: Histogram, ms: number): void {
  let i = BUCKETS_MS.findIndex((b) => ms <= b);
  if (i === -1) i = BUCKETS_MS.length;
  h.counts[i]!++;
  h.sum += ms;
  h.count++;
}

/** Adds `from` into `into`. */
export function merge(into: Histogram, from: Histogram): void {
  from.counts.forEach((n, i) => (into.counts[i] = (into.counts[i] ?? 0) + n));
  into.sum += from.sum;
  into.count += from.count;
}

/** The q-quantile (0–1) estimated by linear interpolation within its bucket; null when empty. */
export function quantile(h: Histogram, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const n = h.counts[i]!;
    if (seen + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : BUCKETS_MS[i - 1]!;
      const upper = BUCKETS_MS[i] ?? lower * 2;
      return Math.round((lower + ((rank - seen) / n) * (upper - lower)) * 100) / 100;
    }
    seen += n;
  }
  return BUCKETS_MS[BUCKETS_MS.length - 1]!;
}

/**
 * The outcome of one request, for counting. `client_abort`: the client went away before its answer
 * (499); `client_timeout`: its body came too slowly or stalled (408); `deadline_exceeded`: its
 * timeout passed before it ran (504).
 */
export type Outcome = "success" | "client_error" | "client_abort" | "client_timeout" | "rate_limited" | "unavailable" | "deadline_exceeded" | "server_error";

/** A client that went away or was too slow with its body: says nothing of the model (not a failure, not in latency or error_rate). */
export const isClientSide = (outcome: Outcome): boolean => outcome === "client_abort" || outcome === "client_timeout";

export function outcomeOf(status: number): Outcome {
  if (status < 400) return "success";
  if (status === 499) return "client_abort";
  if (status === 408) return "client_timeout";
  if (status === 429) return "rate_limited";
  if (status === 503) return "unavailable";
  if (status === 504) return "deadline_exceeded";
  if (status >= 500) return "server_error";
  return "client_error";
}

/** What an isolate accumulated for one (version, tenant, outcome) of a model since its last flush. */
export interface RequestDelta {
  version: number;
  tenant: string;
  outcome: Outcome;
  count: number;
  latency: Histogram;
  inference: Histogram;
}

/** Loads of a version since the last flush. */
export interface LoadDelta {
  version: number;
  cold: number;
  failed: number;
}

/** Response cache lookups of one version: answers found (`hits`) and not (`misses`), and their summed lookup times. */
export interface CacheDelta {
  version: number;
  hits: number;
  misses: number;
  hit_ms: number;
  miss_ms: number;
}

/**
 * Model executions (onnxruntime runs) of one batch size: a dynamic batch of requests, or one
 * request, run at once. `ms` is their summed run time.
 */
export interface ExecutionDelta {
  version: number;
  batch_size: number;
  count: number;
  ms: number;
}
