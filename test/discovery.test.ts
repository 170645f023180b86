/**
 * What a tenant can find out by asking: Triton's model repository index (only the models the
 * tenant may call), the extensions the server lists, and the errors that tell a confused caller
 * what to send instead.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, adminCall, callRaw, json, publish, setup, tenantKey, testEnv } from "./support/helpers";
import { expectDocumented } from "./support/openapi";

let all: string;
let narrow: string;

/** POST /v2/repository/index, its answer checked against the OpenAPI document. */
async function index(key: string, body?: unknown): Promise<Response> {
  const res = await callRaw("/v2/repository/index", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await expectDocumented("POST", "/v2/repository/index", res);
  return new Response(text, { status: res.status, headers: res.headers });
}

interface Row {
  name: string;
  version: string;
  state: string;
  reason: string;
}

beforeAll(async () => {
  await setup();
  all = await tenantKey("discovery-all", { requests_per_minute: 100_000 });
  narrow = await tenantKey("discovery-narrow", { requests_per_minute: 100_000, models: ["silero-vad", "not-published"] });
  // A model whose config.json is broken: listed, but UNAVAILABLE with the reason.
  await publish("iris/1/model.onnx", "discovery-broken/1/model.onnx");
  await testEnv.MODELS.put("discovery-broken/config.json", "{not json");
});

afterAll(async () => {
  await testEnv.MODELS.delete(["discovery-broken/1/model.onnx", "discovery-broken/config.json"]);
});

describe("POST /v2/repository/index", () => {
  it("lists every version of every model, as the admin API does, for a tenant allowed all", async () => {
    const rows = await json<Row[]>(await index(all, {}));
    const { models } = await json<{ models: { name: string; versions: number[] }[] }>(await adminCall("GET", "/models"));
    const expected = models.flatMap((m) => m.versions.map((v) => `${m.name}/${v}`));
    expect(rows.map((r) => `${r.name}/${r.version}`).sort()).toEqual(expected.sort());
    for (const r of rows) expect(Object.keys(r).sort()).toEqual(["name", "reason", "state", "version"]);
    expect(rows.find((r) => r.name === "iris")).toMatchObject({ state: "READY", reason: "" });
    const broken = rows.find((r) => r.name === "discovery-broken")!;
    expect(broken.state).toBe("UNAVAILABLE");
    expect(broken.reason).toMatch(/config/);
  });

  it("takes no body at all, as Triton's clients may send", async () => {
    expect((await json<Row[]>(await index(all))).length).toBeGreaterThan(0);
  });

  it("leaves out versions that are not ready when asked for ready ones only", async () => {
    const rows = await json<Row[]>(await index(all, { ready: true }));
    expect(rows.some((r) => r.name === "discovery-broken")).toBe(false);
    expect(rows.every((r) => r.state === "READY")).toBe(true);
    expect(rows.some((r) => r.name === "iris")).toBe(true);
  });

  it("shows a tenant only the published models it may call", async () => {
    const rows = await json<Row[]>(await index(narrow, {}));
    expect(new Set(rows.map((r) => r.name))).toEqual(new Set(["silero-vad"]));
  });

  it("refuses a malformed request in KServe's error shape", async () => {
    const wrongType = await json<{ error: string }>(await index(all, { ready: "yes" }), 400);
    expect(wrongType.error).toMatch(/ready/);
    expect(Object.keys(wrongType)).toEqual(["error"]);
    expect((await json<{ error: string }>(await index(all, "{"), 400)).error).toMatch(/not valid JSON/);
  });

  it("is listed among the server's extensions; load and unload are not tenants' routes", async () => {
    const server = await json<{ extensions: string[] }>(await callRaw("/v2", { headers: { authorization: `Bearer ${all}` } }));
    expect(server.extensions).toContain("model_repository");
    const load = await callRaw("/v2/repository/models/iris/load", { method: "POST", headers: { authorization: `Bearer ${all}`, "content-type": "application/json" }, body: "{}" });
    expect(load.status).toBe(404);
  });
});

describe("errors for a confused caller", () => {
  const iris = [[5.1, 3.5, 1.4, 0.2]];
  const send = (path: string, body: unknown, key = all) =>
    callRaw(path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  it("names :predict for a TF Serving body sent to KServe's infer", async () => {
    for (const body of [{ instances: iris }, { inputs: { features: iris } }]) {
      const { error } = await json<{ error: string }>(await send("/v2/models/iris/infer", body), 400);
      expect(error).toContain("POST /v1/models/iris:predict");
    }
  });

  it("names /infer for a KServe body sent to :predict", async () => {
    const body = { inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: iris.flat() }] };
    const { error } = await json<{ error: string }>(await send("/v1/models/iris:predict", body), 400);
    expect(error).toContain("POST /v2/models/iris/infer");
  });

  it("says the admin token is not an API key, and an API key is not the admin token", async () => {
    const asKey = await json<{ error: string }>(await callRaw("/v2/models/iris", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), 401);
    expect(asKey.error).toMatch(/admin token, not an API key.*POST \/admin\/tenants\/\{tenant\}\/keys/);
    const asToken = await json<{ error: string; code: string }>(await callRaw("/admin/models", { headers: { authorization: `Bearer ${all}` } }), 401);
    expect(asToken.error).toMatch(/tenant API key, not the admin token/);
    expect(asToken.error).not.toContain(all);
  });
});
