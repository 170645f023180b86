/**
 * @module monitoring/drift: summaries of the values a model is sent and answers, per tensor, and
 * a drift score comparing recent traffic with a baseline the operator pins. Pure.
 *
 * A summary is count, sum, sum of squares, min, max and a coarse histogram over fixed
 * signed-logarithmic bins; large tensors are sampled (at most SAMPLE elements each, evenly
 * strided). The score is the population stability index (PSI) between the baseline's histogram
 * and the current one: below 0.1 is usually read as stable, above 0.25 as a shift.
 */
import { fromFloat16Bits } from "../tensor/float16";
import type { Tensor } from "../tensor/tensor";

/** Upper edges of the bins; a last bin takes larger values. */
export const DRIFT_EDGES = [-1000, -100, -10, -1, -0.1, -0.01, 0, 0.01, 0.1, 1, 10, 100, 1000] as const;
const SAMPLE = 1024;
const EPSILON = 1e-4;

/** What was seen of one tensor. */
export interface Summary {
  count: number;
  sum: number;
  sumsq: number;
  min: number | null;
  max: number | null;
  bins: number[];
}

/** A summary delta of one tensor of one version, as isolates send it. */
export interface DriftDelta {
  version: number;
  tensor: string;
  role: "input" | "output";
  summary: Summary;
}

export const emptySummary = (): Summary => ({ count: 0, sum: 0, sumsq: 0, min: null, max: null, bins: new Array<number>(DRIFT_EDGES.length + 1).fill(0) });

/** The edges as a typed array, for the search in summarise's loop. */
const EDGES = Float64Array.from(DRIFT_EDGES);
/**
 * One tensor's sampled elements as numbers, reused from call to call: summarise runs for every
 * prediction's every tensor, and its loop then reads one kind of array whatever the tensor's type.
 */
const sampled = new Float64Array(SAMPLE);

/** Copies `t`'s elements (every one up to SAMPLE, else evenly strided) into `sampled`; returns how many. */
function sample(t: Tensor): number {
  const data = t.data as ArrayLike<number> | BigInt64Array | BigUint64Array;
  const n = data.length;
  const stride = Math.max(1, Math.ceil(n / SAMPLE));
  let k = 0;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < n; i += stride) sampled[k++] = Number(data[i]!);
  } else if (stride === 1) {
    sampled.set(data);
    k = n;
  } else {
    for (let i = 0; i < n; i += stride) sampled[k++] = data[i]!;
  }
  // FP16 elements are their bits: decoded for the sample only.
  if (t.datatype === "FP16") sampled.set(fromFloat16Bits(Uint16Array.from(sampled.subarray(0, k))));
  return k;
}

/** Adds a tensor's (sampled) numeric elements; BYTES and BOOL tensors are not summarised. */
export function summarise(into: Summary, t: Tensor): void {
  if (t.datatype === "BYTES" || t.datatype === "BOOL" || Array.isArray(t.data)) return;
  const n = sample(t);
  // Accumulated in locals and added once.
  let count = 0;
  let sum = 0;
  let sumsq = 0;
  let min = Infinity;
  let max = -Infinity;
  const bins = into.bins;
  for (let k = 0; k < n; k++) {
    const v = sampled[k]!;
    if (!Number.isFinite(v)) continue;
    count++;
    sum += v;
    sumsq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
    // The bin: the first edge v does not exceed (the last bin past them all), by binary search.
    let lo = 0;
    let hi = EDGES.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v > EDGES[mid]!) lo = mid + 1;
      else hi = mid;
    }
    bins[lo]!++;
  }
  if (count === 0) return;
  into.count += count;
  into.sum += sum;
  into.sumsq += sumsq;
  into.min = into.min === null ? min : Math.min(into.min, min);
  into.max = into.max === null ? max : Math.max(into.max, max);
}

/** Adds `from` into `into`. */
export function mergeSummary(into: Summary, from: Summary): void {
  into.count += from.count;
  into.sum += from.sum;
  into.sumsq += from.sumsq;
  if (from.min !== null) into.min = into.min === null ? from.min : Math.min(into.min, from.min);
  if (from.max !== null) into.max = into.max === null ? from.max : Math.max(into.max, from.max);
  from.bins.forEach((n, i) => (into.bins[i] = (into.bins[i] ?? 0) + n));
}

/** Mean and standard deviation of a summary. */
export function moments(s: Summary): { mean: number | null; sd: number | null } {
  if (s.count === 0) return { mean: null, sd: null };
  const mean = s.sum / s.count;
  return { mean, sd: Math.sqrt(Math.max(0, s.sumsq / s.count - mean * mean)) };
}

/** Population stability index between two histograms (0 when either is empty). */
export function psi(baseline: Summary, current: Summary): number {
  if (baseline.count === 0 || current.count === 0) return 0;
  let total = 0;
  baseline.bins.forEach((b, i) => {
    const p = Math.max(b / baseline.count, EPSILON);
    const q = Math.max((current.bins[i] ?? 0) / current.count, EPSILON);
    total += (q - p) * Math.log(q / p);
  });
  return Math.round(total * 10_000) / 10_000;
}
