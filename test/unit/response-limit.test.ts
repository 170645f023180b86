/** The size guard of TF Serving's :classify answers, against the answers' real JSON. */
import { describe, expect, it } from "vitest";
import { limitClassifyAnswer } from "../../src/http/response-limit";
import { encodeClassifyResponse } from "../../src/tensor/tf-examples";

const scores = (rows: number, classes: number) => ({ name: "p", datatype: "FP32" as const, shape: [rows, classes], data: Float32Array.from({ length: rows * classes }, (_, i) => -1 / (i + 3)) });
const size = (rows: number, classes: number, labels?: string[]) => new TextEncoder().encode(JSON.stringify(encodeClassifyResponse(scores(rows, classes), labels))).byteLength;

describe(":classify answer limit", () => {
  it("estimates no less than the real JSON, labels included, and not many times more", () => {
    for (const [rows, classes, labels] of [[50, 3, ["setosa", "versicolor", "virginica"]], [20, 100, Array.from({ length: 100 }, (_, i) => `class with a long name ${i} ✓ "quoted"`)], [30, 10, undefined]] as const) {
      const real = size(rows, classes, labels as string[] | undefined);
      // A limit just under the real size refuses it; one of thrice the real size lets it pass.
      expect(() => limitClassifyAnswer(scores(rows, classes), labels as string[] | undefined, real - 1)).toThrow(/MAX_RESPONSE_BYTES/);
      expect(() => limitClassifyAnswer(scores(rows, classes), labels as string[] | undefined, 3 * real)).not.toThrow();
    }
  });

  it("refuses with a 413 past the limit, before anything is encoded", () => {
    const labels = Array.from({ length: 1000 }, (_, i) => `label ${i}`);
    expect(() => limitClassifyAnswer(scores(64, 1000), labels, 1_000_000)).toThrow(/more than MAX_RESPONSE_BYTES \(1000000 bytes\): send fewer examples/);
  });
});
