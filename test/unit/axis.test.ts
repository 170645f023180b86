/** Joining tensors along a batch axis that is not the first, and taking each part back out. */
import { describe, expect, it } from "vitest";
import { concatAlong, sliceAlong } from "../../src/tensor/axis";
import type { Tensor } from "../../src/tensor/tensor";

/** A [2, rows, 3] FP32 tensor whose element (a, r, c) is base + 100a + 10r + c. */
function state(rows: number, base: number): Tensor {
  const data = new Float32Array(2 * rows * 3);
  for (let a = 0; a < 2; a++) for (let r = 0; r < rows; r++) for (let c = 0; c < 3; c++) data[(a * rows + r) * 3 + c] = base + 100 * a + 10 * r + c;
  return { name: "state", datatype: "FP32", shape: [2, rows, 3], data };
}

describe("concatAlong and sliceAlong", () => {
  it("join along axis 1 so that every element keeps its place, and give each part back", () => {
    const parts = [state(1, 1000), state(3, 2000), state(2, 3000)];
    const joined = concatAlong(parts, 1);
    expect(joined.shape).toEqual([2, 6, 3]);
    // Element (a, r, c) of the join is element (a, r − offset, c) of the part that holds row r.
    const offsets = [0, 1, 4];
    for (let a = 0; a < 2; a++) {
      for (let r = 0; r < 6; r++) {
        const p = r >= 4 ? 2 : r >= 1 ? 1 : 0;
        for (let c = 0; c < 3; c++) {
          expect(joined.data[(a * 6 + r) * 3 + c]).toBe((p + 1) * 1000 + 100 * a + 10 * (r - offsets[p]!) + c);
        }
      }
    }
    parts.forEach((part, p) => expect(sliceAlong(joined, 1, offsets[p]!, part.shape[1]!)).toEqual(part));
  });

  it("on axis 0 equal plain concatenation, for numbers and strings alike", () => {
    const a: Tensor = { name: "s", datatype: "BYTES", shape: [1, 2], data: ["a", "b"] };
    const b: Tensor = { name: "s", datatype: "BYTES", shape: [2, 2], data: ["c", "d", "e", "f"] };
    const joined = concatAlong([a, b], 0);
    expect(joined).toEqual({ name: "s", datatype: "BYTES", shape: [3, 2], data: ["a", "b", "c", "d", "e", "f"] });
    expect(sliceAlong(joined, 0, 1, 2)).toEqual(b);
    const x: Tensor = { name: "x", datatype: "INT64", shape: [1, 2, 2], data: BigInt64Array.from([1n, 2n, 3n, 4n]) };
    const y: Tensor = { name: "x", datatype: "INT64", shape: [1, 1, 2], data: BigInt64Array.from([5n, 6n]) };
    expect(Array.from(concatAlong([x, y], 1).data as BigInt64Array)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });
});
