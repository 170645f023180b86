/**
 * Request bodies that a slow or hostile client sends, over the real Worker (REQUEST_BODY_TIMEOUT_MS
 * is 500 ms in the tests' bindings): bodies that drip hold only what arrived and end with a 408,
 * while another tenant's request is answered; a stalled body gets a 408 in each protocol's shape;
 * one tenant's bodies hold at most their share of the isolate's memory for bodies, and a body
 * waiting (a compressed one, say) holds up nobody behind it; a client that goes away mid-body is a
 * 499, counted as a client abort, never a server error or in error_rate.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { estimatedPeak } from "../src/http/memory-budget";
import { binaryBody, toBytes } from "./support/binary-wire";
import { adminCall, callRaw, eventually, expectMatchesReference, json, reference, setup, tenantKey, uploadFixture, withContentLength, type JsonTensor } from "./support/helpers";
import { irisBatch } from "./support/inputs";
import { paused } from "./support/held-body";

const IRIS = "iris/1/model.onnx";
const app = createApp();
let slow = "";
let other = "";

afterEach(() => vi.restoreAllMocks());

beforeAll(async () => {
  await setup();
  slow = await tenantKey("slow-client", { requests_per_minute: 1_000_000, burst: 1_000_000 });
  other = await tenantKey("other-client", { requests_per_minute: 1_000_000, burst: 1_000_000 });
});

const encoder = new TextEncoder();

/** A body that sends `first`, then one byte every `everyMs`, and never ends (until the Worker cancels it). */
function drip(first: Uint8Array, everyMs: number): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
      if (everyMs > 0) timer = setInterval(() => controller.enqueue(encoder.encode(" ")), everyMs);
    },
    cancel() {
      if (timer !== undefined) clearInterval(timer);
    },
  });
}

/**
 * A body that sends `first`, then ends short of the length its request declares: a connection
 * dropped mid-body, as the Worker sees it here (a stream that errors reaches it the same way).
 */
function dropped(first: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
      setTimeout(() => controller.close(), 20);
    },
  });
}

const irisJson = (rows: number) => JSON.stringify({ inputs: [irisBatch(rows)] });

/** POSTs `body` as JSON with `key`, declaring `length` bytes. */
function postStream(path: string, key: string, body: ReadableStream<Uint8Array>, length: number): Promise<Response> {
  return callRaw(path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(length) }, body });
}

async function requestMemory(): Promise<{ reserved_bytes: number; waiting: number; tenant_share_bytes: number }> {
  return (await json<{ request_memory: { reserved_bytes: number; waiting: number; tenant_share_bytes: number } }>(await adminCall("GET", "/isolate"))).request_memory;
}

async function expect408(res: Response, setting: string): Promise<void> {
  const body = await json<{ error: string }>(res, 408);
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toContain(setting);
}

describe("slow bodies", () => {
  it("bodies declaring the JSON limit and dripping hold only what arrived, end with a 408, and another tenant is answered meanwhile", async () => {
    const declared = Number(env.MAX_JSON_REQUEST_BYTES);
    // Five of them, reserved by their declared length, would need more than the whole budget.
    expect(5 * estimatedPeak("json", declared)).toBeGreaterThan(Number(env.REQUEST_MEMORY_BUDGET_BYTES));
    const rows = irisBatch(2);
    await json(await callRaw("/v2/models/iris/infer", { method: "POST", headers: { authorization: `Bearer ${other}` }, body: irisJson(1) }));
    const drips = Array.from({ length: 5 }, () => postStream("/v2/models/iris/infer", slow, drip(encoder.encode('{"inputs": ['), 100), declared));
    await eventually(async () => ((await requestMemory()).reserved_bytes > 0 ? true : undefined), "the dripping bodies to arrive");
    expect((await requestMemory()).reserved_bytes).toBeLessThan(estimatedPeak("json", declared));

    const answer = await callRaw("/v2/models/iris/infer", { method: "POST", headers: { authorization: `Bearer ${other}` }, body: JSON.stringify({ inputs: [rows] }) });
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(answer)).outputs, await reference(IRIS, [rows]));
    for (const res of await Promise.all(drips)) await expect408(res, "REQUEST_BODY_MIN_BYTES_PER_SECOND");
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });

  it("a body that stalls gets a 408 in each protocol's error shape, and gives its memory back", async () => {
    const start = encoder.encode('{"inputs": [');
    await expect408(await postStream("/v2/models/iris/infer", slow, drip(start, 0), 1000), "REQUEST_BODY_TIMEOUT_MS");
    await expect408(await postStream("/v1/models/iris:predict", slow, drip(encoder.encode('{"instances": ['), 0), 1000), "REQUEST_BODY_TIMEOUT_MS");
    // Sent without Content-Length, and a model upload, alike.
    const undeclared = await callRaw("/v2/models/iris/infer", { method: "POST", headers: { authorization: `Bearer ${slow}`, "content-type": "application/json" }, body: drip(start, 0) });
    await expect408(undeclared, "REQUEST_BODY_TIMEOUT_MS");
    const upload = await callRaw("/admin/models/stalled-upload/versions/1", { method: "PUT", headers: { authorization: "Bearer test-admin-token", "content-type": "application/octet-stream", "content-length": "100000" }, body: drip(new Uint8Array(100), 0) });
    const error = await json<{ error: string; code: string }>(upload, 408);
    expect(error.code).toBe("request_timeout");
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });
});

describe("a declared length over the JSON limit", () => {
  it("gets its 413 up front, in each protocol's shape, before any key check, reservation or read", async () => {
    const declared = Number(env.MAX_JSON_REQUEST_BYTES) + 1;
    let pulled = 0;
    /** A body that would never end: were it read or waited on, no answer would come. */
    const endless = () =>
      new ReadableStream<Uint8Array>({
        pull() {
          pulled++;
          return new Promise(() => undefined);
        },
      });
    const cases: [string, string, Record<string, string>][] = [
      ["POST", "/v2/models/iris/infer", { authorization: `Bearer ${other}` }],
      ["POST", "/v1/models/iris:predict", { authorization: `Bearer ${other}` }],
      ["POST", "/v2/models/iris/infer", {}],
      ["POST", "/v2/models/iris/infer", { authorization: `Bearer ${other}`, "content-encoding": "gzip" }],
      ["PUT", "/admin/models/iris/config", { authorization: "Bearer test-admin-token" }],
    ];
    for (const [method, path, headers] of cases) {
      const res = await Promise.race([
        callRaw(path, { method, headers: { "content-type": "application/json", "content-length": String(declared), ...headers }, body: endless() }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${method} ${path}: no answer before its body`)), 3000)),
      ]);
      const error = await json<{ error: string }>(res, 413);
      expect(error.error, path).toContain("MAX_JSON_REQUEST_BYTES");
    }
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
    // At most the stream's own first pull, which comes before anyone reads.
    expect(pulled).toBeLessThanOrEqual(cases.length);
  });
});

describe("one tenant's share of the memory for bodies", () => {
  const BUDGET = 4096;
  const envWith = (waitMs: number) => ({ ...env, REQUEST_MEMORY_BUDGET_BYTES: String(BUDGET), REQUEST_MEMORY_TENANT_SHARE: "0.5", REQUEST_MEMORY_WAIT_MS: String(waitMs), REQUEST_BODY_TIMEOUT_MS: "30000" });
  const send = (key: string, init: RequestInit, waitMs: number) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${key}`);
    return app.fetch(new Request("https://edge.test/v2/models/iris/infer", withContentLength({ method: "POST", ...init, headers })), envWith(waitMs), createExecutionContext());
  };
  /** A binary iris request of `rows` rows (16 bytes a row), its body held back before its last 16 bytes until `finish()`. */
  function heldBinary(key: string, rows: number) {
    const input = irisBatch(rows);
    const { body, headerLength } = binaryBody({ inputs: [{ name: "features", datatype: "FP32", shape: input.shape, parameters: { binary_data_size: rows * 16 } }] }, [toBytes("FP32", input.data)]);
    const { stream, finish } = paused(body);
    const response = send(key, { headers: { "content-type": "application/octet-stream", "content-length": String(body.byteLength), "Inference-Header-Content-Length": String(headerLength) }, body: stream }, 5000);
    return { response, finish, input, held: body.byteLength - 16 };
  }

  it("a tenant's second body waits for its share while another tenant's, and a compressed one, are answered at once", async () => {
    const first = heldBinary(slow, 100); // about 1.7 KB of the tenant's 2 KB share
    for (let i = 0; i < 100 && (await requestMemory()).reserved_bytes === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await requestMemory()).reserved_bytes).toBe(first.held);

    // The same tenant's next JSON body (3× its bytes) would pass its share: it waits, then a 503.
    const mine = await send(slow, { headers: { "content-type": "application/json" }, body: irisJson(10) }, 200);
    expect((await json<{ error: string }>(mine, 503)).error).toContain("REQUEST_MEMORY_TENANT_SHARE");

    // Another tenant's fits beside it, as does a gzip-compressed body: neither waits behind anything.
    const rows = irisBatch(3);
    const theirs = await send(other, { headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [rows] }) }, 200);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(theirs)).outputs, await reference(IRIS, [rows]));
    const gzipped = new Uint8Array(await new Response(new Blob([JSON.stringify({ inputs: [rows] })]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    const compressed = await send(other, { headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: gzipped }, 200);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(compressed)).outputs, await reference(IRIS, [rows]));

    first.finish();
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await first.response)).outputs, await reference(IRIS, [first.input]));
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });
});

describe("a client that goes away mid-body", () => {
  it("is a 499 logged as such, counted as a client abort, never a server error nor in error_rate", async () => {
    await uploadFixture("abort-iris", 1, IRIS);
    const alerts = { webhook: "http://webhook.test/ok/abort-iris", rules: [{ name: "any-error", metric: "error_rate", above: 0, min_requests: 1 }] };
    await json(await adminCall("PUT", "/models/abort-iris/config", { alerts }));
    const body = irisJson(2);
    const logged: { status?: number; level?: string; path?: string }[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      try {
        logged.push(JSON.parse(String(line)) as (typeof logged)[number]);
      } catch {
        // not a JSON line
      }
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (let i = 0; i < 3; i++) {
      const res = await postStream("/v2/models/abort-iris/infer", slow, dropped(encoder.encode(body.slice(0, 20))), body.length);
      expect(res.status).toBe(499);
    }
    // One request log line each, with status 499 at level info; no stack in the error log.
    expect(logged.filter((l) => l.path === "/v2/models/abort-iris/infer").map((l) => [l.status, l.level])).toEqual([[499, "info"], [499, "info"], [499, "info"]]);
    expect(errors).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    const rows = irisBatch(1);
    const ok = await callRaw("/v2/models/abort-iris/infer", { method: "POST", headers: { authorization: `Bearer ${slow}` }, body: JSON.stringify({ inputs: [rows] }) });
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(ok)).outputs, await reference(IRIS, [rows]));

    const stats = await eventually(async () => {
      const s = (await json<{ model_stats: { outcomes: Record<string, number>; inference_stats: { fail: { count: number } }; latency_ms: { histogram: unknown } }[] }>(await callRaw("/v2/models/abort-iris/stats", { headers: { authorization: `Bearer ${slow}` } }))).model_stats[0];
      return s && (s.outcomes.success ?? 0) >= 1 && (s.outcomes.client_abort ?? 0) >= 3 ? s : undefined;
    }, "the aborted requests counted");
    expect(stats.outcomes).toEqual({ success: 1, client_abort: 3 });
    // Nor are they failures, or in the latency figures (Triton's fail count).
    expect(stats.inference_stats.fail.count).toBe(0);
    // The alert's window holds the success alone: an error rate of 0, nothing fired.
    const rule = await eventually(async () => {
      const rules = (await json<{ rules: { name: string; state: string; fired: number; value: number | null }[] }>(await adminCall("GET", "/models/abort-iris/alerts"))).rules;
      return rules[0]?.value !== null && rules[0]?.value !== undefined ? rules[0] : undefined;
    }, "the alert evaluated");
    expect(rule).toMatchObject({ state: "ok", fired: 0, value: 0 });
  });
});

describe("a client too slow with its body", () => {
  it("is a 408 counted as a client timeout, never in the model's failures or error_rate", async () => {
    await uploadFixture("slow-408-iris", 1, IRIS);
    const alerts = { webhook: "http://webhook.test/ok/slow-408-iris", rules: [{ name: "any-error", metric: "error_rate", above: 0, min_requests: 1 }] };
    await json(await adminCall("PUT", "/models/slow-408-iris/config", { alerts }));
    for (let i = 0; i < 2; i++) await expect408(await postStream("/v2/models/slow-408-iris/infer", slow, drip(encoder.encode('{"inputs": ['), 0), 1000), "REQUEST_BODY_TIMEOUT_MS");
    const rows = irisBatch(1);
    const ok = await callRaw("/v2/models/slow-408-iris/infer", { method: "POST", headers: { authorization: `Bearer ${slow}` }, body: JSON.stringify({ inputs: [rows] }) });
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(ok)).outputs, await reference(IRIS, [rows]));
    const stats = await eventually(async () => {
      const s = (await json<{ model_stats: { outcomes: Record<string, number>; inference_stats: { fail: { count: number } } }[] }>(await callRaw("/v2/models/slow-408-iris/stats", { headers: { authorization: `Bearer ${slow}` } }))).model_stats[0];
      return s && (s.outcomes.success ?? 0) >= 1 && (s.outcomes.client_timeout ?? 0) + (s.outcomes.client_error ?? 0) >= 2 ? s : undefined;
    }, "the slow requests counted");
    expect(stats.outcomes).toEqual({ success: 1, client_timeout: 2 });
    expect(stats.inference_stats.fail.count).toBe(0);
    const rule = await eventually(async () => {
      const rules = (await json<{ rules: { name: string; state: string; fired: number; value: number | null }[] }>(await adminCall("GET", "/models/slow-408-iris/alerts"))).rules;
      return rules[0]?.value !== null && rules[0]?.value !== undefined ? rules[0] : undefined;
    }, "the alert evaluated");
    expect(rule).toMatchObject({ state: "ok", fired: 0, value: 0 });
  });
});
