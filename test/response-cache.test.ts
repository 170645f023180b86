/**
 * The response cache (a model's config.response_cache): real models, the real Cache API of
 * miniflare, references from onnxruntime-node. The tests' Worker bounds the isolate's tier at
 * 8192 bytes (vitest.config.ts), room for two answers of 150 Iris rows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { requestHash } from "../src/serving/response-key";
import { responseCacheUrl } from "../src/serving/response-cache";
import { fromBytes, binaryBody, readBinaryResponse, toBytes } from "./support/binary-wire";
import { adminCall, call, callRaw, eventually, expectMatchesReference, fixtureBytes, json, post, reference, setup, tenantKey, testEnv, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";
const RETRAINED = "candidates/iris-retrained.onnx";
const HIT = /^edge-inference; hit; ttl=\d+; detail=isolate$/;
const MISS_STORED = "edge-inference; fwd=miss; stored";

type Answer = { model_version: string; outputs: JsonTensor[] };

/** Publishes `file` as version 1 of `model` and turns its response cache on; returns the version's etag. */
async function cachedModel(model: string, cache: Record<string, unknown> = { ttl_seconds: 600 }, file = IRIS): Promise<string> {
  const published = await uploadFixture(model, 1, file);
  await json(await adminCall("PUT", `/models/${model}/config`, { response_cache: cache }));
  return published.etag as string;
}

/** A KServe request with the inputs' bytes after its JSON header, asking for binary outputs. */
function binaryInfer(path: string, inputs: JsonTensor[], outputs?: { name: string }[], headers: Record<string, string> = {}): Promise<Response> {
  const parts = inputs.map((t) => toBytes(t.datatype, t.data));
  const header = {
    inputs: inputs.map((t, i) => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: parts[i]!.byteLength } })),
    ...(outputs ? { outputs } : {}),
    parameters: { binary_data_output: true },
  };
  const { body, headerLength } = binaryBody(header, parts);
  return call(path, { method: "POST", headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength), ...headers }, body });
}

/** The outputs of a binary answer, as JSON tensors. */
async function binaryOutputs(res: Response): Promise<JsonTensor[]> {
  expect(res.status).toBe(200);
  const { json: head, parts } = await readBinaryResponse(res);
  return head.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: fromBytes(o.datatype, parts.get(o.name)!) }));
}

/** A model's Triton statistics entry for version 1. */
async function stats(model: string) {
  const body = await json<{ model_stats: Record<string, unknown>[] }>(await call(`/v2/models/${model}/versions/1/stats`));
  return body.model_stats[0] as { inference_count: number; execution_count: number; cache_hit_count: number; cache_miss_count: number; inference_stats: Record<string, { count: number; ns: number }> };
}

const nested = (t: JsonTensor, width: number) => Array.from({ length: t.shape[0]! }, (_, r) => t.data.slice(r * width, (r + 1) * width));

describe("response cache: hits", () => {
  it("answers a second identical request from the cache, in JSON and then in binary, without running the model", async () => {
    await cachedModel("rc-hit");
    const input = irisBatch(5);
    const expected = await reference(IRIS, [input]);

    const first = await post("/v2/models/rc-hit/infer", { inputs: [input] });
    expect(first.headers.get("Cache-Status")).toBe(MISS_STORED);
    const answer = await json<Answer>(first);
    expectMatchesReference(answer.outputs, expected);

    // The same tensors spelled differently: nested data, keys in another order.
    const respelled = await post("/v2/models/rc-hit/infer", { inputs: [{ data: nested(input, 4), shape: input.shape, name: "features", datatype: "FP32" }] });
    expect(respelled.headers.get("Cache-Status")).toMatch(HIT);
    expect(respelled.headers.get("Server-Timing")).toMatch(/(^|, )cache;dur=/);
    expect(respelled.headers.get("Server-Timing")).not.toMatch(/(^|, )inference;dur=/);
    expect((await json<Answer>(respelled)).outputs).toEqual(answer.outputs);

    const binary = await binaryInfer("/v2/models/rc-hit/infer", [input]);
    expect(binary.headers.get("Cache-Status")).toMatch(HIT);
    expectMatchesReference(await binaryOutputs(binary), expected);

    // A hit's statistics: Triton's counts, and no run (inference_count and execution_count as after the first).
    const s = await eventually(async () => {
      const now = await stats("rc-hit");
      return now.inference_stats.success!.count === 3 ? now : undefined;
    }, "three predictions counted");
    expect(s).toMatchObject({ cache_hit_count: 2, cache_miss_count: 1, inference_count: 5, execution_count: 1 });
    expect(s.inference_stats.cache_hit!.count).toBe(2);
    expect(s.inference_stats.cache_miss!.count).toBe(1);
    const metrics = await (await callRaw("/metrics", { headers: { authorization: "Bearer test-admin-token" } })).text();
    expect(metrics).toContain('edge_inference_cache_hits_total{model="rc-hit",version="1"} 2');
    expect(metrics).toContain('edge_inference_cache_misses_total{model="rc-hit",version="1"} 1');
  });

  it("shares an entry between KServe and TF Serving, row and columnar, each answered in its own format", async () => {
    await cachedModel("rc-tf");
    const input = irisBatch(3);
    const [probabilities, label] = await reference(IRIS, [input]);

    const row = await post("/v1/models/rc-tf:predict", { instances: nested(input, 4) });
    expect(row.headers.get("Cache-Status")).toBe(MISS_STORED);
    const predictions = (await json<{ predictions: { label: number; probabilities: number[] }[] }>(row)).predictions;
    expect(predictions.map((p) => p.label)).toEqual(label!.data);

    const columnar = await post("/v1/models/rc-tf:predict", { inputs: { features: nested(input, 4) } });
    expect(columnar.headers.get("Cache-Status")).toMatch(HIT);
    const outputs = (await json<{ outputs: { label: number[]; probabilities: number[][] } }>(columnar)).outputs;
    expect(outputs.label).toEqual(label!.data);
    expectMatchesReference([{ ...probabilities!, data: outputs.probabilities.flat() }], [probabilities!]);

    const kserve = await post("/v2/models/rc-tf/infer", { inputs: [input] });
    expect(kserve.headers.get("Cache-Status")).toMatch(HIT);
    expectMatchesReference((await json<Answer>(kserve)).outputs, [probabilities!, label!]);
  });
});

describe("response cache: with dynamic batching", () => {
  it("keeps each request's own rows of a joined batch", async () => {
    await uploadFixture("rc-batched", 1, IRIS);
    await json(await adminCall("PUT", "/models/rc-batched/config", { dynamic_batching: { max_batch_size: 64, max_queue_delay_ms: 20 }, response_cache: { ttl_seconds: 600 } }));
    const inputs = [3, 5, 7].map((rows, i) => ({ ...irisBatch(rows + i * 10), data: irisBatch(rows + i * 10).data.map((v) => (v as number) + i) }));
    const first = await Promise.all(inputs.map((input) => post("/v2/models/rc-batched/infer", { inputs: [input] })));
    for (const res of first) expect(res.headers.get("Cache-Status")).toBe(MISS_STORED);
    for (const [i, input] of inputs.entries()) {
      const again = await post("/v2/models/rc-batched/infer", { inputs: [input] });
      expect(again.headers.get("Cache-Status")).toMatch(HIT);
      expectMatchesReference((await json<Answer>(again)).outputs, await reference(IRIS, [input]));
      expectMatchesReference((await json<Answer>(first[i]!)).outputs, await reference(IRIS, [input]));
    }
    // The three first requests ran as fewer runs than requests: joined, then kept apart.
    const s = await eventually(async () => {
      const now = await stats("rc-batched");
      return now.inference_stats.success!.count === 6 ? now : undefined;
    }, "six predictions counted");
    expect(s.execution_count).toBeLessThan(3);
    expect(s).toMatchObject({ inference_count: 3 + 15 + 27, cache_hit_count: 3, cache_miss_count: 3 });
  });
});

describe("response cache: with a shadow version", () => {
  it("mirrors a request that ran, never a cached answer", async () => {
    await uploadFixture("rc-shadow", 1, IRIS);
    await uploadFixture("rc-shadow", 2, RETRAINED);
    await json(await adminCall("PUT", "/models/rc-shadow/config", { default_version: 1, shadow: { version: 2, percent: 100 }, response_cache: { ttl_seconds: 600 } }));
    const mirrored = async () => (await json<{ stats: { mirrored: number }[] }>(await adminCall("GET", "/models/rc-shadow/shadow"))).stats[0]?.mirrored ?? 0;
    const [a, b] = [irisBatch(2), irisBatch(3)];
    expect((await post("/v2/models/rc-shadow/infer", { inputs: [a] })).headers.get("Cache-Status")).toBe(MISS_STORED);
    expect((await post("/v2/models/rc-shadow/infer", { inputs: [a] })).headers.get("Cache-Status")).toMatch(HIT);
    expect((await post("/v2/models/rc-shadow/infer", { inputs: [b] })).headers.get("Cache-Status")).toBe(MISS_STORED);
    await eventually(async () => ((await mirrored()) >= 2 ? true : undefined), "two mirrored requests");
    expect(await mirrored()).toBe(2);
  });
});

describe("response cache: what never shares an entry", () => {
  it("a new version, or a version's replaced bytes, never answers from the old one's entries", async () => {
    await cachedModel("rc-version");
    const input = irisBatch(4);
    expect((await post("/v2/models/rc-version/infer", { inputs: [input] })).headers.get("Cache-Status")).toBe(MISS_STORED);
    expect((await post("/v2/models/rc-version/infer", { inputs: [input] })).headers.get("Cache-Status")).toMatch(HIT);

    await uploadFixture("rc-version", 2, RETRAINED);
    const second = await post("/v2/models/rc-version/infer", { inputs: [input] });
    expect(second.headers.get("Cache-Status")).toBe(MISS_STORED);
    const answer = await json<Answer>(second);
    expect(answer.model_version).toBe("2");
    expectMatchesReference(answer.outputs, await reference(RETRAINED, [input]));

    // Version 1's object replaced in R2 by other bytes (the admin API refuses that): a new etag, so a new entry.
    await testEnv.MODELS.put("rc-version/1/model.onnx", await fixtureBytes(RETRAINED));
    const replaced = await post("/v2/models/rc-version/versions/1/infer", { inputs: [input] });
    expect(replaced.headers.get("Cache-Status")).toBe(MISS_STORED);
    expectMatchesReference((await json<Answer>(replaced)).outputs, await reference(RETRAINED, [input]));
  });

  it("different requested outputs do not share, and each answer has the outputs asked for in their order", async () => {
    await cachedModel("rc-outputs");
    const input = irisBatch(3);
    const ask = (outputs?: string[]) => post("/v2/models/rc-outputs/infer", { inputs: [input], ...(outputs ? { outputs: outputs.map((name) => ({ name })) } : {}) });
    const status = (res: Response) => res.headers.get("Cache-Status");

    expect(status(await ask(["label"]))).toBe(MISS_STORED);
    expect(status(await ask(["probabilities"]))).toBe(MISS_STORED);
    const label = await ask(["label"]);
    expect(status(label)).toMatch(HIT);
    expectMatchesReference((await json<Answer>(label)).outputs, await reference(IRIS, [input], ["label"]));
    expect(status(await ask())).toBe(MISS_STORED);
    // All outputs asked for by name, in another order: the entry of "all", in the order asked.
    const reordered = await ask(["label", "probabilities"]);
    expect(status(reordered)).toMatch(HIT);
    expectMatchesReference((await json<Answer>(reordered)).outputs, await reference(IRIS, [input], ["label", "probabilities"]));
    // binary_data chooses only the encoding: it shares the entry of the same output in JSON.
    const binaryLabel = await binaryInfer("/v2/models/rc-outputs/infer", [input], [{ name: "label" }]);
    expect(status(binaryLabel)).toMatch(HIT);
    expectMatchesReference(await binaryOutputs(binaryLabel), await reference(IRIS, [input], ["label"]));
  });

  it("keeps tenants' answers apart, unless the model's config shares them", async () => {
    await cachedModel("rc-tenants");
    await cachedModel("rc-shared", { ttl_seconds: 600, scope: "model" });
    const other = await tenantKey("rc-other", { requests_per_minute: 1_000_000, burst: 1_000_000 });
    const input = irisBatch(2);
    for (const [model, second] of [["rc-tenants", MISS_STORED], ["rc-shared", HIT]] as const) {
      expect((await post(`/v2/models/${model}/infer`, { inputs: [input] })).headers.get("Cache-Status")).toBe(MISS_STORED);
      const res = await post(`/v2/models/${model}/infer`, { inputs: [input] }, { authorization: `Bearer ${other}` });
      if (second === HIT) expect(res.headers.get("Cache-Status")).toMatch(HIT);
      else expect(res.headers.get("Cache-Status")).toBe(second);
      expectMatchesReference((await json<Answer>(res)).outputs, await reference(IRIS, [input]));
    }
  });
});

describe("response cache: Cache-Status and the request's say", () => {
  it("no-cache goes to the model and refreshes the entry; no-store keeps nothing", async () => {
    await cachedModel("rc-directives");
    const input = irisBatch(2);
    const refreshed = await post("/v2/models/rc-directives/infer", { inputs: [input] }, { "cache-control": "no-cache" });
    expect(refreshed.headers.get("Cache-Status")).toBe("edge-inference; fwd=request; stored");
    expectMatchesReference((await json<Answer>(refreshed)).outputs, await reference(IRIS, [input]));
    expect((await post("/v2/models/rc-directives/infer", { inputs: [input] })).headers.get("Cache-Status")).toMatch(HIT);
    expect((await post("/v2/models/rc-directives/infer", { inputs: [input] }, { "cache-control": "max-age=0, no-cache" })).headers.get("Cache-Status")).toBe("edge-inference; fwd=request; stored");

    const other = irisBatch(3);
    expect((await post("/v2/models/rc-directives/infer", { inputs: [other] }, { "cache-control": "no-store" })).headers.get("Cache-Status")).toBe("edge-inference; fwd=miss");
    expect((await post("/v2/models/rc-directives/infer", { inputs: [other] })).headers.get("Cache-Status")).toBe(MISS_STORED);
    const tf = await post("/v1/models/rc-directives:predict", { instances: nested(other, 4) }, { "cache-control": "no-cache" });
    expect(tf.headers.get("Cache-Status")).toBe("edge-inference; fwd=request; stored");
  });

  it("an answer is kept for ttl_seconds, in both tiers, and not after", async () => {
    await cachedModel("rc-ttl", { ttl_seconds: 1 });
    const input = irisBatch(2);
    const send = (headers: Record<string, string> = {}) => post("/v2/models/rc-ttl/infer", { inputs: [input] }, headers);
    expect((await send()).headers.get("Cache-Status")).toBe(MISS_STORED);
    expect((await send()).headers.get("Cache-Status")).toMatch(/^edge-inference; hit; ttl=[01]; detail=isolate$/);
    expect((await send({ pragma: "no-cache" })).headers.get("Cache-Status")).toBe("edge-inference; fwd=request; stored");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await send();
    expect(expired.headers.get("Cache-Status")).toBe(MISS_STORED);
    expectMatchesReference((await json<Answer>(expired)).outputs, await reference(IRIS, [input]));
  });

  it("a model without response_cache has no Cache-Status", async () => {
    const res = await post("/v2/models/iris/infer", { inputs: [irisBatch(1)] });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Status")).toBeNull();
  });

  it("a cached answer still needs the tenant's key and passes its rate limit", async () => {
    await cachedModel("rc-admission");
    const key = await tenantKey("rc-limited", { requests_per_minute: 1, burst: 2, admission: "exact" });
    const input = irisBatch(1);
    const send = (authorization: string) => post("/v2/models/rc-admission/infer", { inputs: [input] }, { authorization });
    expect((await send(`Bearer ${key}`)).headers.get("Cache-Status")).toBe(MISS_STORED);
    const hit = await send(`Bearer ${key}`);
    expect(hit.status).toBe(200);
    expect(hit.headers.get("Cache-Status")).toMatch(HIT);
    expect((await send(`Bearer ${key}`)).status).toBe(429);
    expect((await send("Bearer not-a-key")).status).toBe(401);
  });

  it("refuses a config whose response_cache is wrong, leaving the old one serving", async () => {
    await cachedModel("rc-config");
    for (const bad of [{ ttl_seconds: 0 }, { ttl_seconds: 1.5 }, { ttl_seconds: 60, scope: "everyone" }, { ttl_seconds: 60, extra: 1 }, {}]) {
      const res = await adminCall("PUT", "/models/rc-config/config", { response_cache: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect((await res.json()) as { error: string }).toMatchObject({ error: expect.stringContaining("response_cache") });
    }
    expect((await post("/v2/models/rc-config/infer", { inputs: [irisBatch(1)] })).headers.get("Cache-Status")).toBe(MISS_STORED);
  });
});

describe("response cache: the isolate's bound", () => {
  it("stays within RESPONSE_CACHE_MAX_BYTES, evicting the least recently used; an evicted answer comes from the data centre's cache", async () => {
    const etag = await cachedModel("rc-bound");
    const isolate = async () => (await json<{ response_cache: { entries: number; bytes: number; max_bytes: number; evictions: number } }>(await adminCall("GET", "/isolate"))).response_cache;
    const before = await isolate();
    expect(before.max_bytes).toBe(8192);

    // Four answers of 147–150 rows: about 3.3 KB each, two fit.
    const inputs = [150, 149, 148, 147].map((rows) => irisBatch(rows));
    for (const input of inputs) {
      const res = await post("/v2/models/rc-bound/infer", { inputs: [input] });
      expect(res.headers.get("Cache-Status")).toBe(MISS_STORED);
      expectMatchesReference((await json<Answer>(res)).outputs, await reference(IRIS, [input]));
      const now = await isolate();
      expect(now.bytes).toBeLessThanOrEqual(now.max_bytes);
    }
    expect((await isolate()).evictions - before.evictions).toBeGreaterThanOrEqual(2);

    // The first answer left the isolate but is in the data centre's cache (filled after its response).
    const features = { name: "features", datatype: "FP32" as const, shape: inputs[0]!.shape, data: Float32Array.from(inputs[0]!.data as number[]) };
    const hash = await requestHash([features], [{ name: "label" }, { name: "probabilities" }]);
    const url = responseCacheUrl({ model: "rc-bound", version: 1, etag, tenant: "tests", hash });
    await eventually(async () => (await caches.default.match(url)) ?? undefined, "the data centre's entry");
    const fromColo = await post("/v2/models/rc-bound/infer", { inputs: [inputs[0]] });
    expect(fromColo.headers.get("Cache-Status")).toMatch(/^edge-inference; hit; ttl=\d+; detail=data-centre$/);
    expectMatchesReference((await json<Answer>(fromColo)).outputs, await reference(IRIS, [inputs[0]!]));
    // Now back in the isolate.
    expect((await post("/v2/models/rc-bound/infer", { inputs: [inputs[0]] })).headers.get("Cache-Status")).toMatch(HIT);
    expect((await isolate()).bytes).toBeLessThanOrEqual(8192);
  });

  it("keeps no answer larger than the whole bound, in either tier", async () => {
    await cachedModel("rc-large", { ttl_seconds: 600 }, "built/constant-of-shape.onnx");
    const shape: JsonTensor = { name: "shape", datatype: "INT64", shape: [2], data: [1, 4096] }; // 16 KiB of FP32
    const expected = await reference("built/constant-of-shape.onnx", [shape]);
    for (let i = 0; i < 2; i++) {
      const res = await post("/v2/models/rc-large/infer", { inputs: [shape] });
      expect(res.headers.get("Cache-Status")).toBe("edge-inference; fwd=miss");
      expectMatchesReference((await json<Answer>(res)).outputs, expected);
    }
    const small: JsonTensor = { ...shape, data: [2, 8] };
    expect((await post("/v2/models/rc-large/infer", { inputs: [small] })).headers.get("Cache-Status")).toBe(MISS_STORED);
    expect((await post("/v2/models/rc-large/infer", { inputs: [small] })).headers.get("Cache-Status")).toMatch(HIT);
  });
});
