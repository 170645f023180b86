import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GrowingBytes } from "../../src/http/growing-bytes";

describe("GrowingBytes", () => {
  it("holds the pieces appended, in order, in one buffer that grows in place to exactly their length", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (pieces) => {
        const total = pieces.reduce((n, p) => n + p.byteLength, 0);
        const grown = new GrowingBytes(total);
        const buffer = grown.bytes().buffer;
        for (const piece of pieces) {
          grown.append(piece);
          // Never a second buffer, nor more memory than what came (issue: a body held as its pieces and again as their copy).
          expect(grown.bytes().buffer).toBe(buffer);
          expect(buffer.byteLength).toBe(grown.byteLength);
        }
        expect(Array.from(grown.bytes())).toEqual(pieces.flatMap((p) => Array.from(p)));
      }),
    );
  });

  it("refuses a piece that would pass its most, appending none of it", () => {
    const grown = new GrowingBytes(5);
    grown.append(new Uint8Array([1, 2, 3]));
    expect(() => grown.append(new Uint8Array([4, 5, 6]))).toThrow(RangeError);
    expect(Array.from(grown.bytes())).toEqual([1, 2, 3]);
  });
});
