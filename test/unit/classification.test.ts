/** The classification extension's pure parts: ranking an output, reading labels files, keeping them. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classify, declaredClasses } from "../../src/tensor/classification";
import { toFloat16Bits } from "../../src/tensor/float16";
import { parseLabels } from "../../src/serving/class-labels";
import { LabelsCache } from "../../src/serving/labels-cache";

const enc = new TextEncoder();

describe("classify", () => {
  it("ranks each row highest first, ties by the lower index, NaN last", () => {
    const t = { name: "p", datatype: "FP32" as const, shape: [2, 4], data: new Float32Array([1, 5, 10, 4, NaN, 2, 2, 7]) };
    expect(classify(t, 4).data).toEqual(["10:2", "5:1", "4:3", "1:0", "7:3", "2:1", "2:2", "NaN:0"]);
    expect(classify(t, 2, ["a", "b", "c", "d"])).toEqual({ name: "p", datatype: "BYTES", shape: [2, 2], data: ["10:2:c", "5:1:b", "7:3:d", "2:1:b"] });
  });

  it("writes a float32 score as the shortest text that reads back as it, as Triton's example shows", () => {
    const t = { name: "p", datatype: "FP32" as const, shape: [4], data: new Float32Array([1.1, 3.3, 0.5, 2.4]) };
    expect(classify(t, 2)).toEqual({ name: "p", datatype: "BYTES", shape: [2], data: ["3.3:1", "2.4:3"] });
    const half = { name: "h", datatype: "FP16" as const, shape: [1, 3], data: toFloat16Bits([0.1, -2, 65504]) };
    expect((classify(half, 3).data as string[]).map((e) => Math.fround(Number(e.split(":")[0])))).toEqual([65504, Math.fround(0.0999755859375), -2]);
  });

  it("answers any float32 rows with their k highest, in order, each score reading back as its value", () => {
    const rows = fc.integer({ min: 1, max: 4 }).chain((n) =>
      fc.integer({ min: 1, max: 12 }).chain((classes) =>
        fc.record({
          classes: fc.constant(classes),
          values: fc.array(fc.oneof(fc.float({ noNaN: true }), fc.constantFrom(0, 1, -1)), { minLength: n * classes, maxLength: n * classes }),
          k: fc.integer({ min: 1, max: classes }),
        }),
      ),
    );
    fc.assert(
      fc.property(rows, ({ classes, values, k }) => {
        const data = new Float32Array(values);
        const n = data.length / classes;
        const answer = classify({ name: "p", datatype: "FP32", shape: [n, classes], data }, k);
        expect(answer.shape).toEqual([n, k]);
        for (let r = 0; r < n; r++) {
          const row = Array.from(data.subarray(r * classes, (r + 1) * classes));
          const want = row.map((_, i) => i).sort((a, b) => (row[b]! > row[a]! ? 1 : row[b]! < row[a]! ? -1 : a - b)).slice(0, k);
          const got = (answer.data as string[]).slice(r * k, (r + 1) * k).map((e) => e.split(":"));
          expect(got.map(([, i]) => Number(i))).toEqual(want);
          got.forEach(([score, i]) => expect(Object.is(Math.fround(Number(score)), row[Number(i)])).toBe(true));
        }
      }),
    );
  });

  it("ranks 64-bit integers exactly", () => {
    const t = { name: "i", datatype: "INT64" as const, shape: [3], data: new BigInt64Array([2n ** 62n, 2n ** 62n + 1n, -(2n ** 63n)]) };
    expect(classify(t, 3).data).toEqual([`${2n ** 62n + 1n}:1`, `${2n ** 62n}:0`, `${-(2n ** 63n)}:2`]);
  });

  it("refuses outputs without an order, and more classes than there are", () => {
    expect(() => classify({ name: "b", datatype: "BOOL", shape: [2], data: new Uint8Array(2) }, 1)).toThrow("ranks numeric outputs only");
    expect(() => classify({ name: "s", datatype: "BYTES", shape: [1], data: ["x"] }, 1)).toThrow("ranks numeric outputs only");
    expect(() => classify({ name: "p", datatype: "FP32", shape: [1, 3], data: new Float32Array(3) }, 4)).toThrow("asks for 4 classes, but the output has 3 per row");
  });

  it("counts the classes after the batch dimension, which must be fixed", () => {
    expect(declaredClasses("p", [-1, 10])).toBe(10);
    expect(declaredClasses("p", [-1, 2, 5])).toBe(10);
    expect(declaredClasses("p", [7])).toBe(7);
    expect(declaredClasses("p", [-1])).toContain("not fixed");
    expect(declaredClasses("p", [-1, -1])).toContain("not fixed");
  });
});

describe("labels files", () => {
  it("reads one label per line, with or without a final newline or \\r", () => {
    expect(parseLabels(enc.encode("a\nb c\n"))).toEqual(["a", "b c"]);
    expect(parseLabels(enc.encode("\uFEFFa\r\nb"))).toEqual(["a", "b"]);
    expect(parseLabels(enc.encode("x:y\n"))).toEqual(["x:y"]);
  });

  it("refuses empty files, blank lines and text that is not UTF-8", () => {
    expect(parseLabels(new Uint8Array(0))).toEqual({ error: expect.stringContaining("empty") });
    expect(parseLabels(enc.encode("a\n\nb\n"))).toEqual({ error: expect.stringContaining("line 2") });
    expect(parseLabels(enc.encode("a\n \n"))).toEqual({ error: expect.stringContaining("line 2") });
    expect(parseLabels(new Uint8Array([0xff, 0x0a]))).toEqual({ error: expect.stringContaining("UTF-8") });
  });

  it("keeps parsed files up to a bound of bytes, dropping the least recently used, and loads each once", async () => {
    const cache = new LabelsCache(100);
    let loads = 0;
    const load = (bytes: number) => async () => {
      loads++;
      return { labels: [String(bytes)], bytes };
    };
    await Promise.all([cache.get("a", load(40)), cache.get("a", load(40))]);
    expect(loads).toBe(1);
    await cache.get("b", load(40));
    await cache.get("a", load(40)); // a is now the most recently used
    await cache.get("c", load(40)); // over 100: b goes
    expect(cache.bytes).toBe(80);
    await cache.get("a", load(40));
    expect(loads).toBe(3);
    await cache.get("b", load(40));
    expect(loads).toBe(4);
    await expect(cache.get("x", () => Promise.reject(new Error("gone")))).rejects.toThrow("gone");
    await cache.get("x", load(1));
    expect(loads).toBe(5);
  });
});
