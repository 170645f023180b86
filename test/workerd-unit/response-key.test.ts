import { describe, expect, it } from "vitest";
import { hex } from "../../src/hex";
import { canonicalRequest, requestHash } from "../../src/serving/response-key";
import type { Tensor } from "../../src/tensor/tensor";

describe("the response cache's key in workerd", () => {
  it("streams the same SHA-256 as a digest of the whole canonical request", async () => {
    const image: Tensor = { name: "image", datatype: "FP32", shape: [1, 3, 64, 64], data: Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i)) };
    const words: Tensor = { name: "words", datatype: "BYTES", shape: [2], data: ["héllo", ""] };
    const empty: Tensor = { name: "empty", datatype: "INT64", shape: [0], data: new BigInt64Array(0) };
    const outputs = [{ name: "scores", parameters: { classification: 3 } }];
    expect(typeof (crypto as unknown as { DigestStream?: unknown }).DigestStream).toBe("function");
    const whole = hex(await crypto.subtle.digest("SHA-256", canonicalRequest([image, words, empty], outputs)));
    expect(await requestHash([image, words, empty], outputs)).toBe(whole);
  });
});
