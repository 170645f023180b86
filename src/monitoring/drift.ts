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

/** Adds a tensor's (sampled) numeric elements; BYTES and BOOL tensors are not summarised. */
export function summarise(into: Summary, t: Tensor): void {
  if (t.datatype === "BYTES" || t.datatype === "BOOL" || Array.isArray(t.data)) return;
  const data = t.data as ArrayLike<number | bigint>;
  const stride = Math.max(1, Math.ceil(data.length / SAMPLE));
  // Sampled straight from the typed array (FP16 bits decoded for the sample only), never copied whole.
  const sample = t.datatype === "FP16" ? fromFloat16Bits(Uint16Array.from({ length: Math.ceil(data.length / stride) }, (_, k) => Number(data[k * stride]))) : null;
  // Accumulated in locals and added once: this runs for every prediction's every tensor.
  let count = 0;
  let sum = 0;
  let sumsq = 0;
  let min = Infinity;
  let max = -Infinity;
  const bins = into.bins;
  for (let i = 0, k = 0; i < data.length; i += stride, k++) {
    const v = sample ? sample[k]! : Number(data[i]);
    if (!Number.isFinite(v)) continue;
    count++;
    sum += v;
    sumsq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
    let bin = 0;
    while (bin < DRIFT_EDGES.length && v > DRIFT_EDGES[bin]!) bin++;
    bins[bin]!++;
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
