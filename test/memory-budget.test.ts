/**
 * The isolate's memory for request bodies (REQUEST_MEMORY_BUDGET_BYTES), over the real Worker and
 * model: a body is held mid-stream to keep what arrived of it reserved, and the requests that would
 * not fit beside it wait, then get a 503 in their protocol's error shape; nothing is left reserved
 * after. Every body, sent with Content-Length or without, compressed or not, holds what has arrived.
 * One tenant here (REQUEST_MEMORY_TENANT_SHARE 1): tenants' shares are tested in body-intake.test.ts.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { estimatedPeak } from "../src/http/memory-budget";
import { ADMIN_TOKEN, call, callRaw, expectMatchesReference, fixtureBytes, json, reference, setup, streamed, tenantKey, withContentLength, type JsonTensor } from "./support/helpers";
import { binaryBody, fromBytes, readBinaryResponse, toBytes } from "./support/binary-wire";
import { irisBatch } from "./support/inputs";
import { paused } from "./support/held-body";

const app = createApp();
const BUDGET = 4096;
let key = "";

beforeAll(async () => {
  await setup();
  key = await tenantKey("memory", { requests_per_minute: 1_000_000, burst: 1_000_000 });
});

const envWith = (waitMs: number) => ({ ...env, REQUEST_MEMORY_BUDGET_BYTES: String(BUDGET), REQUEST_MEMORY_WAIT_MS: String(waitMs), REQUEST_MEMORY_TENANT_SHARE: "1", REQUEST_BODY_TIMEOUT_MS: "30000" });

async function send(path: string, init: RequestInit, waitMs: number): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  return app.fetch(new Request(`https://edge.test${path}`, withContentLength({ ...init, headers })), envWith(waitMs), createExecutionContext());
}

async function requestMemory(): Promise<{ budget_bytes: number; reserved_bytes: number; waiting: number; refused: number }> {
  const res = await app.fetch(new Request("https://edge.test/admin/isolate", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), envWith(0), createExecutionContext());
  return (await json<{ request_memory: { budget_bytes: number; reserved_bytes: number; waiting: number; refused: number } }>(res)).request_memory;
}

/** A binary iris request of `rows` rows, and its answer from onnxruntime-node. */
async function irisRequest(rows: number) {
  const input = irisBatch(rows);
  const framed = binaryBody({ parameters: { binary_data_output: true }, inputs: [{ name: "features", datatype: "FP32", shape: input.shape, parameters: { binary_data_size: rows * 16 } }] }, [toBytes("FP32", input.data)]);
  return { ...framed, want: await reference("iris/1/model.onnx", [input]) };
}


/** A binary request whose body is held (`paused`) until `finish()`. */
function held(body: Uint8Array, headerLength: number, waitMs: number) {
  const { stream, finish } = paused(body);
  const response = send("/v2/models/iris/infer", {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "content-length": String(body.byteLength), "Inference-Header-Content-Length": String(headerLength) },
    body: stream,
  }, waitMs);
  return { response, finish };
}

/**
 * Waits (up to a second) until the budget holds at least `bytes` (by default, anything): a held
 * body's bytes arrive in several chunks, so its first reservation may be only part of it.
 */
async function untilReserved(bytes = 1): Promise<void> {
  for (let i = 0; i < 100 && (await requestMemory()).reserved_bytes < bytes; i++) await new Promise((r) => setTimeout(r, 10));
}

const postBinary = (body: Uint8Array, headerLength: number, waitMs: number) =>
  send("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) }, body }, waitMs);

async function expectPrediction(res: Response, want: Awaited<ReturnType<typeof irisRequest>>["want"]) {
  expect(res.status).toBe(200);
  const { json: head, parts } = await readBinaryResponse(res);
  expectMatchesReference(head.outputs.map((o) => ({ ...o, data: fromBytes(o.datatype, parts.get(o.name)!) })), want);
}

describe("request memory budget", () => {
  it("lets what fits run beside a body in flight, refuses what does not after the wait with a 503, and serves it once the body is done", async () => {
    const big = await irisRequest(150); // 2,400 bytes of tensor: most of the 4,096
    const first = held(big.body, big.headerLength, 5000);
    await untilReserved(big.body.byteLength - 16);
    expect(await requestMemory()).toMatchObject({ budget_bytes: BUDGET, reserved_bytes: big.body.byteLength - 16, waiting: 0 });

    // A small JSON request fits beside it (3× its bytes) and is answered at once.
    const small = await send("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [irisBatch(1)] }) }, 5000);
    expect(small.status).toBe(200);

    // One that does not fit waits, then is refused in each protocol's shape, with Retry-After.
    const mid = await irisRequest(100);
    const refused = await postBinary(mid.body, mid.headerLength, 200);
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect((await json<{ error: string }>(refused, 503)).error).toContain("REQUEST_MEMORY_BUDGET_BYTES");
    const rows = irisBatch(60).data;
    const tf = await send("/v1/models/iris:predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ instances: Array.from({ length: 60 }, (_, i) => rows.slice(i * 4, i * 4 + 4)) }) }, 200);
    expect(Object.keys(await json(tf, 503))).toEqual(["error"]);
    expect((await requestMemory()).refused).toBeGreaterThanOrEqual(2);

    // One that waits long enough is let in when the first finishes; both answers are right.
    const queued = postBinary(mid.body, mid.headerLength, 5000);
    for (let i = 0; i < 100 && (await requestMemory()).waiting === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await requestMemory()).waiting).toBe(1);
    first.finish();
    await expectPrediction(await first.response, big.want);
    await expectPrediction(await queued, mid.want);
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });

  it("gives back the share of a request that fails, and admits a body larger than the whole budget alone", async () => {
    const bad = await send("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [1, 2, 3] }] }) }, 200);
    await json(bad, 400);
    const missing = await send("/v2/models/no-such-model/infer", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }, 200);
    await json(missing, 404);
    // 150 rows as JSON (3× its 3 KB), more than the whole budget: run once nothing else holds any.
    const rows = irisBatch(150);
    const huge = await send("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [rows] }) }, 200);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(huge)).outputs, await reference("iris/1/model.onnx", [rows]));
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });

  it("holds for a compressed body the compressed bytes that arrived, so that others run beside a slow one, and nothing once answered", async () => {
    const big = await irisRequest(150);
    const gzipped = new Uint8Array(await new Response(new Blob([big.body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    const { stream, finish } = paused(gzipped);
    const slow = send("/v2/models/iris/infer", {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "content-encoding": "gzip", "content-length": String(gzipped.byteLength), "Inference-Header-Content-Length": String(big.headerLength) },
      body: stream,
    }, 5000);
    await untilReserved(gzipped.byteLength - 16);
    expect((await requestMemory()).reserved_bytes).toBe(gzipped.byteLength - 16);
    // Decompressing it holds what comes out as it comes out (never the share of its limit,
    // MAX_REQUEST_BYTES, more than this whole budget); meanwhile a request that fits beside it is answered at once.
    const small = await send("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [irisBatch(1)] }) }, 200);
    expect(small.status).toBe(200);
    finish();
    await expectPrediction(await slow, big.want);
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });

  it("holds for a body sent without Content-Length what arrived of it, reads it only once the caller is admitted, and answers 411 past 1 MiB (a model upload excepted)", async () => {
    // Held mid-stream, a JSON body without a length holds the peak of what arrived (3× its bytes),
    // no longer of its limit (3 × 1 MiB, more than this whole budget): a request beside it runs.
    const rows = irisBatch(1);
    const text = new TextEncoder().encode(JSON.stringify({ inputs: [rows] }));
    const { stream, finish } = paused(text);
    const undeclared = app.fetch(
      new Request("https://edge.test/v2/models/iris/infer", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: stream }),
      envWith(5000),
      createExecutionContext(),
    );
    await untilReserved(estimatedPeak("json", text.byteLength - 16));
    expect((await requestMemory()).reserved_bytes).toBe(estimatedPeak("json", text.byteLength - 16));
    const small = await send("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [rows] }) }, 200);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(small)).outputs, await reference("iris/1/model.onnx", [rows]));
    finish();
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await undeclared)).outputs, await reference("iris/1/model.onnx", [rows]));
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });

    // Through the Worker: 1.5 MiB without Content-Length is refused in each protocol's shape.
    const binary = await call("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": "0" }, body: streamed(new Uint8Array(1.5 * 1024 * 1024)) });
    expect((await json<{ error: string }>(binary, 411)).error).toContain("send Content-Length");
    const tf = await call("/v1/models/iris:predict", { method: "POST", headers: { "content-type": "application/json" }, body: streamed(new TextEncoder().encode(`{"instances": [${"[5.1, 3.5, 1.4, 0.2],".repeat(80_000)}[5.1, 3.5, 1.4, 0.2]]}`)) });
    expect(Object.keys(await json(tf, 411))).toEqual(["error"]);
    // Nothing is read before the caller is known: without a key, a body that never ends still
    // gets its 401 (were it read first, this request would never be answered), as does 1.5 MiB.
    let end!: () => void;
    const ended = new Promise<void>((r) => (end = r));
    const endless = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(1024));
        await ended;
        controller.close();
      },
    });
    const anonymous = await Promise.race([
      callRaw("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/json" }, body: endless }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the body was read before the key was checked")), 5000)),
    ]);
    expect(anonymous.status).toBe(401);
    end();
    expect((await callRaw("/v1/models/iris:predict", { method: "POST", body: streamed(new Uint8Array(1.5 * 1024 * 1024)) })).status).toBe(401);
    // A model upload may stream without one (behind the admin token, within MAX_MODEL_BYTES).
    const vad = new Uint8Array(await fixtureBytes("silero-vad/1/model.onnx"));
    expect(vad.byteLength).toBeGreaterThan(1024 * 1024);
    const uploaded = await callRaw("/admin/models/streamed-vad/versions/1", { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/octet-stream" }, body: streamed(vad) });
    expect(uploaded.status, await uploaded.clone().text()).toBe(201);
  });

  it("holds no more than the isolate has beside onnxruntime's heap (ISOLATE_MEMORY_BYTES less the heap), however large the budget, and shows it", async () => {
    const rows = irisBatch(2);
    const want = await reference("iris/1/model.onnx", [rows]);
    // JSON padded with spaces: valid, cheap to run, and held at 3× its bytes like any JSON body.
    const padded = (spaces: number) => new TextEncoder().encode(JSON.stringify({ inputs: [rows] }) + " ".repeat(spaces));
    // The heap as it is now (iris loaded); the isolate 5 MiB larger: bodies may hold 5 MiB, not the 48 MiB budget.
    const before = await json<{ wasm_heap_bytes: number }>(await app.fetch(new Request("https://edge.test/admin/isolate", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), env, createExecutionContext()));
    const isolateEnv = { ...env, ISOLATE_MEMORY_BYTES: String(before.wasm_heap_bytes + 5 * 1024 * 1024), REQUEST_MEMORY_WAIT_MS: "200", REQUEST_MEMORY_TENANT_SHARE: "1", REQUEST_BODY_TIMEOUT_MS: "30000" };
    const post = (body: BodyInit, length: number) =>
      app.fetch(
        new Request("https://edge.test/v2/models/iris/infer", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(length) }, body }),
        isolateEnv,
        createExecutionContext(),
      );
    const status = async () =>
      (await json<{ wasm_heap_bytes: number; request_memory: { budget_bytes: number; isolate_memory_bytes: number; capacity_bytes: number; reserved_bytes: number } }>(
        await app.fetch(new Request("https://edge.test/admin/isolate", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), isolateEnv, createExecutionContext()),
      ));
    const shown = await status();
    expect(shown.request_memory.budget_bytes).toBe(Number(env.REQUEST_MEMORY_BUDGET_BYTES));
    expect(shown.request_memory.capacity_bytes).toBe(Number(isolateEnv.ISOLATE_MEMORY_BYTES) - shown.wasm_heap_bytes);

    // 1 MiB of JSON held mid-body holds 3 MiB; 0.75 MiB more (2.25 MiB held) would pass 5 MiB: it waits, then a 503.
    const first = padded(1024 * 1024);
    const { stream, finish } = paused(first);
    const slow = post(stream, first.byteLength);
    for (let i = 0; i < 100 && (await status()).request_memory.reserved_bytes === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await status()).request_memory.reserved_bytes).toBe(estimatedPeak("json", first.byteLength - 16));
    const second = padded(768 * 1024);
    const refused = await post(second, second.byteLength);
    expect((await json<{ error: string }>(refused, 503)).error).toContain("ISOLATE_MEMORY_BYTES");
    // A small body fits beside it and is answered.
    const small = padded(0);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await post(small, small.byteLength))).outputs, want);
    finish();
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await slow)).outputs, want);
    expect((await status()).request_memory.reserved_bytes).toBe(0);
  });
});
