/** Helpers for tests that run in workerd: seeding R2, calling the Worker, asking for reference outputs. */
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

interface TestEnv {
  MODELS: R2Bucket;
  PAYLOAD_LOGS: R2Bucket;
  MODEL_STATS: Env["MODEL_STATS"];
  MODEL_WRITERS: Env["MODEL_WRITERS"];
  API_KEYS: KVNamespace;
  TENANTS: Env["TENANTS"];
  FIXTURES: Fetcher;
}

/** The admin token the tests' Worker is configured with (vitest.config.ts). */
export const ADMIN_TOKEN = "test-admin-token";
export const testEnv = env as unknown as TestEnv;

/** A tensor in KServe JSON form. */
export interface JsonTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** The bytes of a demo repository object (a key as in the bucket). */
export async function fixtureBytes(key: string): Promise<ArrayBuffer> {
  const res = await testEnv.FIXTURES.fetch(`http://fixtures/objects/${key}`);
  if (!res.ok) throw new Error(`fixture ${key}: ${res.status}`);
  return res.arrayBuffer();
}

/** Puts every object of the demo repository into the MODELS bucket. */
export async function seedRepository(): Promise<void> {
  const keys = (await (await testEnv.FIXTURES.fetch("http://fixtures/objects/")).json()) as string[];
  await Promise.all(keys.map(async (key) => testEnv.MODELS.put(key, await fixtureBytes(key))));
}

/** Copies a demo object to another key, e.g. to publish a model under a new name or version. */
export async function publish(fromKey: string, toKey: string): Promise<void> {
  await testEnv.MODELS.put(toKey, await fixtureBytes(fromKey));
}

/** Outputs of native onnxruntime-node for the model file behind `key` on the same inputs. */
export async function reference(key: string, inputs: JsonTensor[], outputs?: string[]): Promise<JsonTensor[]> {
  const res = await testEnv.FIXTURES.fetch(`http://fixtures/reference/${key}`, {
    method: "POST",
    body: JSON.stringify({ inputs, outputs }),
  });
  const body = (await res.json()) as { outputs?: JsonTensor[]; error?: string };
  if (!res.ok) throw new Error(`reference run failed: ${body.error}`);
  return body.outputs!;
}

/**
 * `init` with the Content-Length an HTTP client sends for a body of known length (a Request built
 * in the isolate has none, which the Worker would take for a body streamed without one).
 */
export function withContentLength(init: RequestInit = {}): RequestInit {
  const body = init.body;
  const length = typeof body === "string" ? new TextEncoder().encode(body).byteLength : body instanceof ArrayBuffer || ArrayBuffer.isView(body) ? body.byteLength : undefined;
  const headers = new Headers(init.headers);
  if (length === undefined || headers.has("content-length")) return init;
  headers.set("content-length", String(length));
  return { ...init, headers };
}

/** `body` as a stream of chunks of `size` bytes, as a client sends a body it streams (no Content-Length of its own). */
export function streamed(body: Uint8Array, size = 64 * 1024): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < body.byteLength; at += size) controller.enqueue(body.slice(at, at + size));
      controller.close();
    },
  });
}

/** Calls the Worker over its fetch handler as an HTTP client would (no key added). */
export function callRaw(path: string, init?: RequestInit): Promise<Response> {
  const worker = (exports as unknown as { default: { fetch(r: Request): Promise<Response> } }).default;
  return worker.fetch(new Request(`https://edge.test${path}`, withContentLength(init)));
}

let defaultKey: string | undefined;

/** Calls the Worker with the test tenant's key (see setup) unless the request names its own. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization") && defaultKey) headers.set("authorization", `Bearer ${defaultKey}`);
  return callRaw(path, { ...init, headers });
}

/** POSTs a JSON body with the test tenant's key. */
export function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** Calls an admin route with the admin token. */
export function adminCall(method: string, path: string, body?: unknown): Promise<Response> {
  return callRaw(`/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** PUTs model bytes as a version through the admin API. */
export function upload(model: string, version: string | number, bytes: ArrayBuffer | Uint8Array | string, contentType = "application/octet-stream"): Promise<Response> {
  return callRaw(`/admin/models/${model}/versions/${version}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": contentType },
    body: bytes,
  });
}

/** Publishes a demo file (a fixture key, e.g. "iris/1/model.onnx") as a version through the admin API. */
export async function uploadFixture(model: string, version: number, fixtureKey: string): Promise<Record<string, unknown>> {
  const res = await upload(model, version, await fixtureBytes(fixtureKey));
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) throw new Error(`publish ${model}/${version}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** SHA-256 of bytes, lower-case hex. */
export async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Polls `probe` until it returns a value that is not undefined (for work done after a response). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates (or updates) a tenant with `policy` and returns a new key for it. */
export async function tenantKey(tenant: string, policy: Record<string, unknown>, key: Record<string, unknown> = {}): Promise<string> {
  const put = await adminCall("PUT", `/tenants/${tenant}`, policy);
  if (put.status !== 200 && put.status !== 201) throw new Error(`PUT tenant ${tenant}: ${put.status} ${await put.text()}`);
  const res = await adminCall("POST", `/tenants/${tenant}/keys`, key);
  if (res.status !== 201) throw new Error(`POST key for ${tenant}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

/** Seeds the repository and creates the tenant whose key `call` and `post` send. */
export async function setup(): Promise<void> {
  await seedRepository();
  defaultKey = await tenantKey("tests", { requests_per_minute: 1_000_000, burst: 1_000_000 });
}

/** Expects `res` to have `status`, returning its JSON body. */
export async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Float outputs within tolerance of the reference (WASM SIMD and native kernels differ in rounding); others exact. */
export function expectMatchesReference(actual: JsonTensor[], expected: JsonTensor[]): void {
  expect(actual.map((t) => t.name)).toEqual(expected.map((t) => t.name));
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.datatype, a.name).toBe(e.datatype);
    expect(a.shape, a.name).toEqual(e.shape);
    expect(a.data.length, a.name).toBe(e.data.length);
    if (a.datatype.startsWith("FP")) {
      a.data.forEach((v, j) => {
        const want = e.data[j] as number;
        expect(Math.abs((v as number) - want), `${a.name}[${j}]: ${v} vs ${want}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
      });
    } else {
      expect(a.data.map(String), a.name).toEqual(e.data.map(String));
    }
  });
}
