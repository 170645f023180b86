import { describe, expect, it } from "vitest";
import { fromBinary, shapeFromByteCount, toBinary } from "../../src/tensor/binary";
import { frameBody, splitBody } from "../../src/tensor/kserve-binary";
import { decodeInferRequest } from "../../src/tensor/kserve-json";

describe("shapeFromByteCount", () => {
  it("works out the one dynamic dimension, or checks a static shape", () => {
    expect(shapeFromByteCount("x", "FP32", [-1, 4], 5 * 16)).toEqual([5, 4]);
    expect(shapeFromByteCount("x", "FP32", [1, 3, -1, 2], 4 * 3 * 7 * 2)).toEqual([1, 3, 7, 2]);
    expect(shapeFromByteCount("x", "UINT8", [2, 2], 4)).toEqual([2, 2]);
    expect(() => shapeFromByteCount("x", "UINT8", [2, 2], 5)).toThrow("needs 4 bytes");
    expect(() => shapeFromByteCount("x", "FP32", [-1, -1], 16)).toThrow("several dynamic");
    expect(() => shapeFromByteCount("x", "BYTES", [-1], 16)).toThrow("BYTES");
    expect(() => shapeFromByteCount("x", "FP32", [-1, 4], 0)).toThrow("whole number");
  });
});

describe("binary tensors", () => {
  it("round-trip, from unaligned offsets too", () => {
    const raw = new Uint8Array(1 + 8);
    new DataView(raw.buffer).setFloat32(1, 1.5, true);
    new DataView(raw.buffer).setFloat32(5, -2, true);
    const t = fromBinary("x", "FP32", [2], raw.subarray(1));
    expect(Array.from(t.data as Float32Array)).toEqual([1.5, -2]);
    expect(toBinary(t)).toEqual(raw.subarray(1));
    // Aligned bytes are viewed where they lie, not copied; unaligned ones were copied above.
    const body = new Uint8Array(4 + 8);
    new DataView(body.buffer).setFloat32(4, 0.25, true);
    new DataView(body.buffer).setFloat32(8, 7, true);
    const v = fromBinary("v", "FP32", [2], body.subarray(4));
    expect(Array.from(v.data as Float32Array)).toEqual([0.25, 7]);
    expect((v.data as Float32Array).buffer).toBe(body.buffer);
    expect((t.data as Float32Array).buffer).not.toBe(raw.buffer);
    const s = fromBinary("s", "BYTES", [2], toBinary({ name: "s", datatype: "BYTES", shape: [2], data: ["a", "✓"] }));
    expect(s.data).toEqual(["a", "✓"]);
  });

  it("frame and split a body, the JSON header padded with spaces to a multiple of 8 bytes", () => {
    for (const json of [{ a: 1 }, { ab: "✓✓" }, { abcdefghijklmnopqrst: 1 }]) {
      const { body, headerLength } = frameBody(json, [new Uint8Array([1, 2]), new Uint8Array([3])]);
      expect(headerLength % 8).toBe(0);
      const text = new TextDecoder().decode(body.subarray(0, headerLength));
      expect(text.trimEnd()).toBe(JSON.stringify(json));
      expect(headerLength - new TextEncoder().encode(JSON.stringify(json)).byteLength).toBeLessThan(8);
      const split = splitBody(body, String(headerLength));
      expect(split).toMatchObject({ kind: "json", json });
      expect(split.kind === "json" && Array.from(split.binary)).toEqual([1, 2, 3]);
      expect(splitBody(body, "0")).toMatchObject({ kind: "raw" });
    }
  });

  it("frame a response whose first output a client can view where it lies", () => {
    const probabilities = Float64Array.of(0.25, 0.75);
    const { body, headerLength } = frameBody({ model_name: "m" }, [new Uint8Array(probabilities.buffer)]);
    expect(Array.from(new Float64Array(body.buffer, body.byteOffset + headerLength, 2))).toEqual([0.25, 0.75]);
  });

  it("read a request's tensors in place when its JSON header is padded to a multiple of 8 (docs/protocols.md), else copy them", () => {
    const json = JSON.stringify({ inputs: [
      { name: "a", datatype: "FP32", shape: [2], parameters: { binary_data_size: 8 } },
      { name: "b", datatype: "INT64", shape: [1], parameters: { binary_data_size: 8 } },
    ] });
    const toEight = (8 - (new TextEncoder().encode(json).byteLength % 8)) % 8;
    const request = (pad: number) => {
      const header = new TextEncoder().encode(json + " ".repeat(pad));
      const body = new Uint8Array(header.byteLength + 16);
      body.set(header);
      const view = new DataView(body.buffer, header.byteLength);
      view.setFloat32(0, 1.5, true);
      view.setFloat32(4, -3, true);
      view.setBigInt64(8, 42n, true);
      const split = splitBody(body, String(header.byteLength));
      if (split.kind !== "json") throw new Error("expected a JSON header");
      return { body, inputs: decodeInferRequest(split.json, split.binary).inputs };
    };
    for (const pad of [toEight, toEight + 1]) {
      const { body, inputs } = request(pad);
      expect(Array.from(inputs[0]!.data as Float32Array)).toEqual([1.5, -3]);
      expect(Array.from(inputs[1]!.data as BigInt64Array)).toEqual([42n]);
      for (const t of inputs) expect((t.data as Float32Array).buffer === body.buffer).toBe(pad === toEight);
    }
  });
});
