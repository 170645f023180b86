/**
 * Answers over MAX_RESPONSE_BYTES, over the real Worker: a model whose output is as large as the
 * request asks (ConstantOfShape, built with onnx-proto and published through the admin API) is
 * refused with a 413 in each protocol's error shape before anything is encoded, naming the limit
 * and binary outputs where they would fit; an answer within the limit is served as before.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { binaryBody, fromBytes, readBinaryResponse } from "./support/binary-wire";
import { expectMatchesReference, json, post, reference, setup, tenantKey, uploadFixture, withContentLength, type JsonTensor } from "./support/helpers";

const MODEL = "huge-output";
const FILE = "built/constant-of-shape.onnx";
/** A limit small enough for the tests' answers to cross it cheaply. */
const LIMIT = 256 * 1024;
const app = createApp();
let key = "";

beforeAll(async () => {
  await setup();
  await uploadFixture(MODEL, 1, FILE);
  key = await tenantKey("response-limit", { requests_per_minute: 1_000_000, burst: 1_000_000 });
});

/** Calls the Worker's app with MAX_RESPONSE_BYTES at LIMIT. */
async function send(path: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  const request = new Request(`https://edge.test${path}`, withContentLength({ ...init, headers }));
  return app.fetch(request, { ...env, MAX_RESPONSE_BYTES: String(LIMIT) }, createExecutionContext());
}

const shapeInput = (rows: number, columns: number): JsonTensor => ({ name: "shape", datatype: "INT64", shape: [2], data: [rows, columns] });
const postJson = (path: string, body: unknown) => send(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The 413's message, after checking the protocol's error shape and that nothing was encoded (no `encode` phase timed). */
async function refused(res: Response): Promise<string> {
  expect(res.headers.get("Server-Timing") ?? "").not.toContain("encode");
  const body = await json<{ error: string }>(res, 413);
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toContain("MAX_RESPONSE_BYTES");
  return body.error;
}

describe("answers over MAX_RESPONSE_BYTES", () => {
  it("refuses 1.4 million floats as JSON with a 413 before encoding them, under the deployed limit", async () => {
    // 5.6 MB as binary fits the deployed 32 MiB; as JSON (26 bytes a float at most) it would not.
    // As few as that takes: this isolate's heap, capped at 96 MiB, is already grown and fragmented
    // by other files, and larger outputs met the cap there (a 507: test/heap-cap.test.ts covers that).
    const res = await post(`/v2/models/${MODEL}/infer`, { inputs: [shapeInput(1, 1_400_000)] });
    const message = await refused(res);
    expect(message).toContain("binary_data_output");
  });

  it("says when not even binary data would fit", async () => {
    const message = await refused(await postJson(`/v2/models/${MODEL}/infer`, { inputs: [shapeInput(2, LIMIT / 4)] }));
    expect(message).toContain("even as binary data");
  });

  it("KServe: refuses a JSON answer over the limit naming binary_data_output, and serves the same answer as binary data", async () => {
    const input = shapeInput(1, 16_384); // 64 KiB of FP32: within the limit as binary, not as JSON
    expect(await refused(await postJson(`/v2/models/${MODEL}/infer`, { inputs: [input] }))).toContain("binary_data_output");
    // Asked for per output, the same.
    const perOutput = await postJson(`/v2/models/${MODEL}/infer`, { inputs: [input], outputs: [{ name: "filled", parameters: { binary_data: false } }] });
    expect(await refused(perOutput)).toContain("binary_data");

    const { body, headerLength } = binaryBody({ inputs: [{ name: "shape", datatype: "INT64", shape: [2], parameters: { binary_data_size: 16 } }], parameters: { binary_data_output: true } }, [new Uint8Array(new BigInt64Array([1n, 16_384n]).buffer)]);
    const res = await send(`/v2/models/${MODEL}/infer`, { method: "POST", headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) }, body });
    expect(res.status).toBe(200);
    const { json: head, parts } = await readBinaryResponse(res);
    const outputs = head.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: fromBytes(o.datatype, parts.get(o.name)!) }));
    const want = await reference(FILE, [input]);
    expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual(want.map((o) => [o.name, o.datatype, o.shape]));
    // Every element compared at once: 16,384 separate expectations would be slow.
    expect(outputs[0]!.data).toEqual(want[0]!.data);

    // A JSON answer within the limit is served as before.
    const small = shapeInput(2, 3);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await postJson(`/v2/models/${MODEL}/infer`, { inputs: [small] }))).outputs, await reference(FILE, [small]));
  });

  it("TF Serving: refuses an answer over the limit in both formats, pointing to KServe V2's binary outputs, and serves one within it", async () => {
    const columnar = await refused(await postJson(`/v1/models/${MODEL}:predict`, { inputs: { shape: [1, 16_384] } }));
    expect(columnar).toContain(`/v2/models/${MODEL}/infer`);
    // Row format: the two instances are the two numbers of the shape, and the rows of the answer.
    const rows = await refused(await postJson(`/v1/models/${MODEL}:predict`, { instances: [2, 8192] }));
    expect(rows).toContain("binary_data_output");

    const [want] = await reference(FILE, [shapeInput(2, 3)]);
    const predicted = await json<{ predictions: number[][] }>(await postJson(`/v1/models/${MODEL}:predict`, { instances: [2, 3] }));
    expect(predicted.predictions.flat()).toEqual(want!.data);
    const columns = await json<{ outputs: number[][] }>(await postJson(`/v1/models/${MODEL}:predict`, { inputs: { shape: [2, 3] } }));
    expect(columns.outputs.flat()).toEqual(want!.data);
  });
});
