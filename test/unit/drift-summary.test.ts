/** Drift summaries against a plain recomputation: counts, moments, extremes and bins. */
import { describe, expect, it } from "vitest";
import { DRIFT_EDGES, emptySummary, summarise, type Summary } from "../../src/monitoring/drift";
import { toFloat16Bits } from "../../src/tensor/float16";
import type { Tensor } from "../../src/tensor/tensor";
import { prng } from "../support/inputs";

/** The summary of `values` as the definition reads: finite values only, bin = first edge ≥ v. */
function naive(values: number[]): Summary {
  const s = emptySummary();
  for (const v of values.filter(Number.isFinite)) {
    s.count++;
    s.sum += v;
    s.sumsq += v * v;
    s.min = s.min === null ? v : Math.min(s.min, v);
    s.max = s.max === null ? v : Math.max(s.max, v);
    const bin = DRIFT_EDGES.findIndex((e) => v <= e);
    s.bins[bin === -1 ? DRIFT_EDGES.length : bin]!++;
  }
  return s;
}

const close = (a: Summary, b: Summary) => {
  expect({ ...a, sum: 0, sumsq: 0 }).toEqual({ ...b, sum: 0, sumsq: 0 });
  // Summed in another order: equal to within rounding.
  for (const k of ["sum", "sumsq"] as const) expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b[k])));
};

describe("drift summaries", () => {
  it("match the definition on values across every bin, skipping NaN and infinities, and add up across calls", () => {
    const rand = prng(11);
    const values = Array.from({ length: 500 }, () => Math.fround((rand() - 0.5) * 10 ** Math.floor(rand() * 9 - 3)));
    values.push(...DRIFT_EDGES.map((e) => Math.fround(e)), NaN, Infinity, -Infinity, 0, 5000, -5000);
    const t: Tensor = { name: "x", datatype: "FP32", shape: [values.length], data: Float32Array.from(values) };
    const s = emptySummary();
    summarise(s, t);
    close(s, naive(Array.from(t.data as Float32Array)));
    summarise(s, t);
    const twice = naive([...Array.from(t.data as Float32Array), ...Array.from(t.data as Float32Array)]);
    close(s, twice);
  });

  it("sample a large tensor with an even stride, and read INT64 and FP16 as numbers", () => {
    const big = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 50);
    const s = emptySummary();
    summarise(s, { name: "big", datatype: "FP32", shape: [5000], data: big });
    const stride = Math.ceil(5000 / 1024);
    close(s, naive(Array.from(big).filter((_, i) => i % stride === 0)));
    const ints = emptySummary();
    summarise(ints, { name: "n", datatype: "INT64", shape: [4], data: BigInt64Array.from([-3n, 0n, 7n, 12000n]) });
    close(ints, naive([-3, 0, 7, 12000]));
    const halves = emptySummary();
    summarise(halves, { name: "h", datatype: "FP16", shape: [3], data: toFloat16Bits([0.5, -2, 300]) });
    close(halves, naive([0.5, -2, 300]));
  });
});
