/** Drift summaries against a plain recomputation: counts, moments, extremes and bins. */
import { describe, expect, it } from "vitest";
import { DRIFT_EDGES, emptySummary, summarise, type Summary } from "../../src/monitoring/drift";
import fc from "fast-check";
import { fromFloat16Bits, toFloat16Bits } from "../../src/tensor/float16";
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
  // -0 and 0 are one value here (the extremes of [-0, 0] may be either).
  const plain = (s: Summary) => ({ ...s, sum: 0, sumsq: 0, min: s.min === null ? null : s.min + 0, max: s.max === null ? null : s.max + 0 });
  expect(plain(a)).toEqual(plain(b));
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

describe("drift summaries (fast-check)", () => {
  // Every numeric element type, each tensor's sample read through the one loop: a summary of any
  // tensor, of any length (sampled past 1024), equals the definition's over its strided sample.
  const kinds = [
    { datatype: "FP32", make: (v: number[]) => Float32Array.from(v), read: (a: ArrayLike<number>) => Array.from(a) },
    { datatype: "FP64", make: (v: number[]) => Float64Array.from(v), read: (a: ArrayLike<number>) => Array.from(a) },
    { datatype: "INT8", make: (v: number[]) => Int8Array.from(v), read: (a: ArrayLike<number>) => Array.from(a) },
    { datatype: "UINT16", make: (v: number[]) => Uint16Array.from(v), read: (a: ArrayLike<number>) => Array.from(a) },
    { datatype: "INT32", make: (v: number[]) => Int32Array.from(v), read: (a: ArrayLike<number>) => Array.from(a) },
    { datatype: "INT64", make: (v: number[]) => BigInt64Array.from(v.map((x) => BigInt(Math.trunc(x)))), read: (a: BigInt64Array) => Array.from(a, Number) },
    { datatype: "UINT64", make: (v: number[]) => BigUint64Array.from(v.map((x) => BigInt(Math.abs(Math.trunc(x))))), read: (a: BigUint64Array) => Array.from(a, Number) },
    { datatype: "FP16", make: (v: number[]) => toFloat16Bits(v), read: (a: Uint16Array) => fromFloat16Bits(a) },
  ] as const;
  it("equal the definition over the strided sample, for every numeric type and length", () => {
    const value = fc.oneof(fc.double({ min: -5000, max: 5000 }), fc.constantFrom(...DRIFT_EDGES, NaN, Infinity, -Infinity, 0, -0));
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.array(value, { maxLength: 40 }), fc.nat({ max: 3000 }), (kind, head, extra) => {
        const values = [...head, ...Array.from({ length: extra }, (_, i) => Math.sin(i) * 2000)];
        const data = kind.make(values.map((v) => (kind.datatype.startsWith("FP") ? v : Number.isFinite(v) ? v : 0)));
        const s = emptySummary();
        summarise(s, { name: "x", datatype: kind.datatype, shape: [data.length], data });
        const stride = Math.max(1, Math.ceil(data.length / 1024));
        close(s, naive((kind.read as (a: typeof data) => number[])(data).filter((_, i) => i % stride === 0)));
      }),
      { numRuns: 200 },
    );
  });
});
