import { describe, expect, it } from "vitest";
import { fromBinary, toBinary } from "../../src/tensor/binary";
import { decodeInferRequest } from "../../src/tensor/kserve-json";
import { requestHash } from "../../src/serving/response-key";
import type { Tensor } from "../../src/tensor/tensor";

const features = (data: number[], shape = [data.length / 4, 4]): Tensor => ({ name: "features", datatype: "FP32", shape, data: Float32Array.from(data) });
const state: Tensor = { name: "state", datatype: "INT64", shape: [1], data: BigInt64Array.from([3n]) };

describe("the response cache's key", () => {
  it("is the same for a JSON request and a binary one carrying the same tensors", async () => {
    const data = [5.1, 3.5, 1.4, 0.2, 6.2, 2.9, 4.3, 1.3];
    const json = decodeInferRequest({ inputs: [{ name: "features", datatype: "FP32", shape: [2, 4], data: [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3]] }] });
    const bytes = toBinary(features(data));
    const binary = decodeInferRequest(
      { inputs: [{ name: "features", datatype: "FP32", shape: [2, 4], parameters: { binary_data_size: bytes.byteLength } }], outputs: [{ name: "label", parameters: { binary_data: true } }] },
      bytes,
    );
    const outputs = (r: typeof json) => ["label"].map((name) => ({ name, parameters: r.outputParameters?.[name] }));
    expect(await requestHash(binary.inputs, outputs(binary))).toBe(await requestHash(json.inputs, outputs(json)));
  });

  it("does not depend on the order of inputs, outputs or parameters", async () => {
    const a = await requestHash([features([1, 2, 3, 4]), state], [{ name: "y", parameters: { a: 1, b: { c: 2, d: 3 } } }, { name: "x" }]);
    const b = await requestHash([state, features([1, 2, 3, 4])], [{ name: "x" }, { name: "y", parameters: { b: { d: 3, c: 2 }, a: 1 } }]);
    expect(a).toBe(b);
  });

  it("differs when the outputs asked for, or their parameters, differ", async () => {
    const inputs = [features([1, 2, 3, 4])];
    const hashes = await Promise.all([
      requestHash(inputs, [{ name: "label" }]),
      requestHash(inputs, [{ name: "probabilities" }]),
      requestHash(inputs, [{ name: "label" }, { name: "probabilities" }]),
      requestHash(inputs, [{ name: "label", parameters: { classification: 2 } }]),
    ]);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it("differs when a value, a shape or a datatype differs, though the bytes are alike", async () => {
    const out = [{ name: "label" }];
    const flat = features([1, 2, 3, 4, 5, 6, 7, 8], [8]);
    const bytes = toBinary(flat);
    const hashes = await Promise.all([
      requestHash([features([1, 2, 3, 4, 5, 6, 7, 8])], out),
      requestHash([flat], out),
      requestHash([fromBinary("features", "INT32", [2, 4], bytes)], out),
      requestHash([features([1, 2, 3, 4, 5, 6, 7, 9])], out),
    ]);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});
