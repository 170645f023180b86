/**
 * Runs that grow onnxruntime's heap (which never shrinks): what max_batch_size guards against, made
 * visible. A FRESH file (vitest.config.ts): only runtime-start and monitoring's small models ran
 * in its isolate before it, so the heap's growth does not depend on what other tests loaded.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { binaryBody } from "./support/binary-wire";
import { adminCall, call, json, setup, uploadFixture } from "./support/helpers";

beforeAll(setup);

describe("a run that grows onnxruntime's heap", () => {
  it("is logged and listed in /admin/isolate, with the model and the rows that grew it", async () => {
    await uploadFixture("cnn-h", 1, "cnn/1/model.onnx");
    // Binary, to stay under the tests' MAX_REQUEST_BYTES (4 MiB): 6 images are 3.6 MB.
    const images = (rows: number) => {
      const { body, headerLength } = binaryBody({ inputs: [{ name: "image", datatype: "FP32", shape: [rows, 3, 224, 224], parameters: { binary_data_size: rows * 602_112 } }] }, [new Uint8Array(rows * 602_112)]);
      return call("/v2/models/cnn-h/infer", { method: "POST", headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) }, body });
    };
    expect((await images(1)).status).toBe(200);
    const warned: Record<string, unknown>[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: unknown) => {
      const parsed = JSON.parse(String(line)) as Record<string, unknown>;
      if (parsed.event === "wasm_heap_grew") warned.push(parsed);
    });
    try {
      expect((await images(6)).status).toBe(200);
    } finally {
      spy.mockRestore();
    }
    const { wasm_heap_bytes: heap, heap_growth: growth } = await json<{ wasm_heap_bytes: number; heap_growth: { model: string; version: number; rows: number; from_bytes: number; to_bytes: number }[] }>(await adminCall("GET", "/isolate"));
    const last = growth.at(-1)!;
    expect(last).toMatchObject({ model: "cnn-h", version: 1, rows: 6, to_bytes: heap });
    expect(last.to_bytes).toBeGreaterThan(last.from_bytes);
    expect(warned).toEqual([expect.objectContaining({ model: "cnn-h", rows: 6, to_bytes: heap })]);
  });

});
