/** An output's size on the wire, known before encoding: exact for binary, from above for JSON (fast-check against the real encoders). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DATATYPES, datatypeInfo, type Datatype } from "../../src/tensor/datatype";
import { binaryBytes, jsonBytes } from "../../src/tensor/encoded-size";
import { toBinary } from "../../src/tensor/binary";
import { toJsonValues } from "../../src/tensor/json-values";
import { elementCount, nest, type Tensor } from "../../src/tensor/tensor";

const utf8 = new TextEncoder();

/** A tensor of `datatype` and `shape` whose elements are the random bits in `bytes` (strings from them for BYTES). */
function tensorOf(datatype: Datatype, shape: number[], bytes: Uint8Array): Tensor {
  const n = elementCount(shape);
  if (datatype === "BYTES") return { name: "t", datatype, shape, data: Array.from({ length: n }, (_, i) => String.fromCharCode(...bytes.subarray(i, i + (bytes[i] ?? 0) % 9)) + "é") };
  const data = datatypeInfo(datatype).array(n) as Exclude<Tensor["data"], string[]>;
  const view = new Uint8Array(data.buffer);
  for (let i = 0; i < view.length; i++) view[i] = bytes[i % Math.max(1, bytes.length)] ?? 0;
  if (datatype === "BOOL") for (let i = 0; i < n; i++) view[i]! &= 1;
  return { name: "t", datatype, shape, data };
}

describe("encoded sizes", () => {
  it("binary: exactly the bytes the binary encoder writes (BYTES: at least); JSON: never less than the text of the nested values", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DATATYPES),
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.boolean(),
        (datatype, shape, bytes, base64) => {
          const t = tensorOf(datatype, shape, bytes);
          const binary = toBinary(t).byteLength;
          if (datatype === "BYTES") expect(binaryBytes(t)).toBeGreaterThanOrEqual(binary);
          else expect(binaryBytes(t)).toBe(binary);
          const values = toJsonValues(t).map((v) => (base64 && typeof v === "string" ? { b64: btoa(String.fromCharCode(...utf8.encode(v))) } : v));
          expect(jsonBytes(t, base64)).toBeGreaterThanOrEqual(utf8.encode(JSON.stringify(nest(values, t.shape))).byteLength);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("JSON: holds for the widest floats (17 digits behind -0.00000), integers and escaped strings", () => {
    const widest: Tensor[] = [
      { name: "f64", datatype: "FP64", shape: [2], data: new Float64Array([-0.0000012345678901234567, -2.2250738585072014e-308]) },
      { name: "f32", datatype: "FP32", shape: [2], data: new Float32Array([-0.0000012345678, -1.1754943508222875e-38]) },
      { name: "f16", datatype: "FP16", shape: [1], data: new Uint16Array([0x8011]) },
      { name: "i64", datatype: "INT64", shape: [1], data: new BigInt64Array([-(2n ** 63n)]) },
      { name: "u64", datatype: "UINT64", shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    ];
    widest.push({ name: "escapes", datatype: "BYTES", shape: [2], data: ["\u0001\u0002\u0003", "\"\\"] });
    for (const t of widest) expect(jsonBytes(t), t.name).toBeGreaterThanOrEqual(utf8.encode(JSON.stringify(nest(toJsonValues(t), t.shape))).byteLength);
  });
});
