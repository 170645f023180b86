/**
 * @edge-inference/client's own codecs, held to independent implementations: FP16 rounding against
 * @petamoriken/float16, and an input's binary bytes against the test suite's wire writer.
 */
import { fromHalfBits, InferInput, toHalfBits } from "@edge-inference/client";
import { getFloat16, setFloat16 } from "@petamoriken/float16";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toBytes } from "../support/binary-wire";

const halfBitsOf = (value: number) => {
  const view = new DataView(new ArrayBuffer(2));
  setFloat16(view, 0, value, true);
  return view.getUint16(0, true);
};

describe("the client's FP16", () => {
  it("rounds any double to the half @petamoriken/float16 gives (fast-check)", () => {
    const special = fc.constantFrom(0, -0, 65504, 65519.99, 65520, -65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, Infinity, -Infinity);
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true }), fc.double({ min: -70000, max: 70000, noNaN: true }), fc.double({ min: -1e-4, max: 1e-4, noNaN: true }), special), (v) => {
        expect(toHalfBits(v), String(v)).toBe(halfBitsOf(v));
      }),
      { numRuns: 5000 },
    );
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it("decodes every one of the 65536 halves as @petamoriken/float16 does", () => {
    const view = new DataView(new ArrayBuffer(2));
    for (let bits = 0; bits < 65536; bits++) {
      view.setUint16(0, bits, true);
      const want = getFloat16(view, 0, true);
      const got = fromHalfBits(bits);
      if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
      else if (got !== want || Object.is(got, -0) !== Object.is(want, -0)) expect(got, `bits ${bits}`).toBe(want);
    }
  });
});

describe("the client's binary inputs", () => {
  const VALUES: Record<string, unknown[]> = {
    BOOL: [true, false],
    UINT16: [0, 65535],
    INT32: [-2147483648, 7],
    INT64: [-(2n ** 63n), 2n ** 53n + 1n],
    FP16: [0.1, -2],
    FP64: [Math.PI, -0],
    BYTES: ["", "héllo ✓"],
  };
  for (const [datatype, values] of Object.entries(VALUES)) {
    it(`writes ${datatype} as the wire format says`, () => {
      const input = new InferInput("x", [values.length], datatype).setData(values as number[]);
      const expected = toBytes(datatype, values);
      expect(Array.from(input.binaryData())).toEqual(Array.from(expected));
    });
  }
});

describe("the client's input checks", () => {
  it("refuses, before sending, data an input cannot hold", () => {
    expect(() => new InferInput("x", [2], "INT8").setData([1, 300])).toThrow("element 1, 300, is not a value of INT8");
    expect(() => new InferInput("x", [1], "INT32").setData([1.5])).toThrow("is not a value of INT32");
    expect(() => new InferInput("x", [1], "INT64").setData([1.5])).toThrow("cannot be held as INT64");
    expect(() => new InferInput("x", [3], "FP32").setData([1, 2])).toThrow("holds 3 elements, the data has 2");
    expect(() => new InferInput("x", [1], "BYTES").setData([7] as unknown as string[])).toThrow("not a string or a Uint8Array");
    expect(() => new InferInput("x", [1], "FLOAT")).toThrow("unknown datatype 'FLOAT'");
    expect(() => new InferInput("x", [1], "INT64").setData([2n ** 60n], { binary: false }).toJSON()).toThrow("send it as binary");
  });
});
