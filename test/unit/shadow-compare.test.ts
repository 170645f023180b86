import { describe, expect, it } from "vitest";
import { checkConfigVersions, referencedVersions } from "../../src/serving/config";
import type { ModelSnapshot } from "../../src/serving/repository";
import { compareOutputs, shadowFor } from "../../src/serving/shadow";
import type { Tensor } from "../../src/tensor/tensor";

const f32 = (name: string, values: number[], shape = [values.length]): Tensor => ({ name, datatype: "FP32", shape, data: Float32Array.from(values) });
const i64 = (name: string, values: bigint[]): Tensor => ({ name, datatype: "INT64", shape: [values.length], data: BigInt64Array.from(values) });

describe("compareOutputs", () => {
  it("agrees within tolerance and reports the largest difference", () => {
    const r = compareOutputs([f32("p", [0.5, 0.25])], [f32("p", [0.50001, 0.25])]);
    expect(r.agree).toBe(true);
    expect(r.maxAbsDiff).toBeCloseTo(0.00001, 6);
  });
  it("disagrees beyond tolerance, on integer labels, on shape and on missing outputs", () => {
    expect(compareOutputs([f32("p", [0.5])], [f32("p", [0.6])]).agree).toBe(false);
    expect(compareOutputs([i64("l", [1n, 2n])], [i64("l", [1n, 0n])])).toMatchObject({ agree: false, maxAbsDiff: 2 });
    expect(compareOutputs([i64("l", [2n ** 62n])], [i64("l", [2n ** 62n])])).toMatchObject({ agree: true, maxAbsDiff: 0 });
    expect(compareOutputs([f32("p", [1, 2], [2])], [f32("p", [1, 2], [1, 2])])).toMatchObject({ agree: false });
    expect(compareOutputs([f32("p", [1])], [f32("q", [1])])).toMatchObject({ agree: false, error: "the shadow has no output 'p'" });
  });
  it("treats NaN as equal only to NaN", () => {
    expect(compareOutputs([f32("p", [NaN])], [f32("p", [NaN])]).agree).toBe(true);
    expect(compareOutputs([f32("p", [NaN])], [f32("p", [0])]).agree).toBe(false);
  });
});

const snapshot = (config: ModelSnapshot["config"]): ModelSnapshot => ({
  name: "m",
  versions: [1, 2, 3].map((version) => ({ version, etag: `e${version}`, size: 1, uploaded: new Date(0) })),
  config,
});

describe("shadowFor", () => {
  it("mirrors the configured share, never the shadow's own requests", () => {
    const s = snapshot({ shadow: { version: 2, percent: 25 } });
    const v1 = s.versions[0]!;
    expect(shadowFor(s, v1, 0.1)?.version).toBe(2);
    expect(shadowFor(s, v1, 0.3)).toBeNull();
    expect(shadowFor(s, s.versions[1]!, 0.0)).toBeNull();
    expect(shadowFor(snapshot({}), v1, 0)).toBeNull();
    const hits = Array.from({ length: 10_000 }, (_, i) => shadowFor(s, v1, i / 10_000)).filter(Boolean).length;
    expect(hits).toBe(2500);
  });
});

describe("config against versions", () => {
  it("names every reference to a version that does not exist", () => {
    const config = { default_version: 1, labels: { a: 2, b: 9 }, traffic: { "3": 50, "8": 50 }, shadow: { version: 7, percent: 1 } };
    expect(referencedVersions(config).map((r) => r.version)).toEqual([1, 2, 9, 3, 8, 7]);
    expect(checkConfigVersions(config, [1, 2, 3])).toBe(
      "label 'b' points at version 9, which does not exist; traffic (weight 50) points at version 8, which does not exist; shadow points at version 7, which does not exist",
    );
    expect(checkConfigVersions({ labels: { a: 1 } }, [1])).toBeNull();
  });
});
