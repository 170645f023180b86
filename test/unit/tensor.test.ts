import { describe, expect, it } from "vitest";
import { decodeInferRequest } from "../../src/tensor/kserve-json";
import { fromJsonValues, toJsonValues } from "../../src/tensor/json-values";
import { elementCount, flatten, inferShape, nest } from "../../src/tensor/tensor";
import { decodePredictRequest, encodePredictResponse } from "../../src/tensor/tf-json";

describe("tensor shapes", () => {
  it("flattens nested lists row-major and nests them back", () => {
    const nested = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]];
    expect(flatten(nested)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(nest(flatten(nested), [2, 2, 2])).toEqual(nested);
    expect(nest([9], [])).toBe(9);
  });

  it("nests tensors with a zero-sized dimension", () => {
    expect(nest([], [2, 0])).toEqual([[], []]);
    expect(nest([], [0, 3])).toEqual([]);
    expect(elementCount([2, 0])).toBe(0);
  });

  it("infers shapes and refuses ragged lists", () => {
    expect(inferShape([[1, 2, 3], [4, 5, 6]], "x")).toEqual([2, 3]);
    expect(inferShape(7, "x")).toEqual([]);
    expect(() => inferShape([[1, 2], [3]], "x")).toThrow("ragged");
    expect(() => inferShape([[1, 2], 3], "x")).toThrow("ragged");
    expect(() => inferShape([1, [2]], "x")).toThrow("ragged");
  });

  it("flattens very deep lists without recursion", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(flatten(deep)).toEqual([1]);
  });
});

describe("JSON values", () => {
  it("carries 64-bit integers beyond 2^53 exactly on the way out", () => {
    const t = { name: "y", datatype: "INT64" as const, shape: [2], data: BigInt64Array.from([2n ** 62n, -5n]) };
    expect(JSON.stringify(toJsonValues(t))).toBe(`[${2n ** 62n},-5]`);
  });

  it("keeps the datatype's bounds", () => {
    expect(() => fromJsonValues("x", "UINT16", [1], [65536])).toThrow("out of range");
    expect(() => fromJsonValues("x", "INT16", [1], [-32769])).toThrow("out of range");
    expect(fromJsonValues("x", "UINT32", [1], [4294967295]).data).toEqual(Uint32Array.from([4294967295]));
  });
});

describe("KServe JSON requests", () => {
  it("decodes inputs and requested outputs", () => {
    const r = decodeInferRequest({
      id: "a",
      inputs: [{ name: "x", shape: [2], datatype: "INT32", data: [1, 2] }],
      outputs: [{ name: "y" }],
    });
    expect(r.id).toBe("a");
    expect(r.outputs).toEqual(["y"]);
    expect(r.inputs[0]!.data).toEqual(Int32Array.from([1, 2]));
  });

  it("refuses a request that is not an object", () => {
    expect(() => decodeInferRequest([1, 2])).toThrow("inference request");
    expect(() => decodeInferRequest({ inputs: [] })).toThrow("'inputs'");
  });
});

describe("TF Serving JSON", () => {
  const specs = [{ name: "a", datatype: "FP32" as const }, { name: "b", datatype: "INT64" as const }];

  it("batches named instances along a new first dimension", () => {
    const r = decodePredictRequest({ instances: [{ a: [1, 2], b: 3 }, { a: [4, 5], b: 6 }] }, specs);
    expect(r.batchSize).toBe(2);
    expect(r.inputs.map((t) => [t.name, t.shape])).toEqual([["a", [2, 2]], ["b", [2]]]);
  });

  it("refuses an instance missing an input", () => {
    expect(() => decodePredictRequest({ instances: [{ a: [1], b: 1 }, { a: [2] }] }, specs)).toThrow("instances[1] has no value for input 'b'");
  });

  it("refuses an instance missing an input named like a member every object inherits", () => {
    const inherited = [{ name: "constructor", datatype: "FP32" as const }];
    expect(() => decodePredictRequest({ instances: [{ constructor: [1] }, {}] }, inherited)).toThrow("instances[1] has no value for input 'constructor'");
  });

  it("answers one output per instance as a plain list", () => {
    const request = decodePredictRequest({ instances: [{ a: [1], b: 1 }] }, specs);
    const out = { name: "y", datatype: "FP32" as const, shape: [1, 2], data: Float32Array.from([0.5, 0.25]) };
    expect(encodePredictResponse(request, [out])).toEqual({ predictions: [[0.5, 0.25]] });
  });
});
