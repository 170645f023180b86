/** Request statistics aggregated in each model's Durable Object; KServe stats and Prometheus metrics. */
import { evictDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, callRaw, eventually, json, post, publish, setup, testEnv } from "./support/helpers";
import { irisBatch, sileroInputs } from "./support/inputs";

/** Copies of the demo models under names no other file uses: their statistics start from zero. */
const IRIS = "mon-iris";
const VAD = "mon-vad";

beforeAll(async () => {
  await setup();
  await Promise.all([
    publish("iris/1/model.onnx", `${IRIS}/1/model.onnx`),
    publish("iris/config.json", `${IRIS}/config.json`),
    publish("silero-vad/1/model.onnx", `${VAD}/1/model.onnx`),
  ]);
});

interface ModelStat {
  name: string;
  version: string;
  inference_count: number;
  execution_count: number;
  batch_stats: { batch_size: number; compute_infer: { count: number; ns: number } }[];
  inference_stats: { success: { count: number }; fail: { count: number } };
  outcomes: Record<string, number>;
  latency_ms: { p50: number | null; histogram: { count: number; counts: number[] } };
  loads: { cold: number; failed: number };
}

const statsOf = async (path: string) => (await json<{ model_stats: ModelStat[] }>(await call(path))).model_stats;
const untilCount = (path: string, n: number) =>
  eventually(async () => {
    const s = (await statsOf(path))[0];
    return s && s.latency_ms.histogram.count >= n ? s : undefined;
  }, `${n} requests counted at ${path}`);

describe("request statistics", () => {
  it("count every prediction by outcome, across models, with histograms that add up", async () => {
    for (let i = 0; i < 7; i++) await json(await post(`/v2/models/${IRIS}/infer`, { inputs: [irisBatch(1 + i)] }));
    await json(await post(`/v2/models/${IRIS}/infer`, { inputs: [{ name: "features", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }] }), 400);
    await json(await post(`/v1/models/${IRIS}:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] }));
    for (let i = 0; i < 3; i++) await json(await post(`/v2/models/${VAD}/infer`, { inputs: sileroInputs() }));
    await json(await call(`/v2/models/${IRIS}`)); // metadata: not a prediction

    const iris = await untilCount(`/v2/models/${IRIS}/stats`, 9);
    // As Triton counts: every row an inference (1 + 2 + … + 7, and the TF Serving row), every run an execution.
    expect(iris).toMatchObject({ name: IRIS, version: "1", inference_count: 29, execution_count: 8, outcomes: { success: 8, client_error: 1 } });
    expect(iris.batch_stats.map((b) => [b.batch_size, b.compute_infer.count])).toEqual([[1, 2], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 1]]);
    expect(iris.inference_stats.fail.count).toBe(1);
    expect(iris.latency_ms.histogram.counts.reduce((a, b) => a + b, 0)).toBe(9);
    expect(iris.loads.cold).toBeGreaterThanOrEqual(1);
    const vad = await untilCount(`/v2/models/${VAD}/versions/1/stats`, 3);
    // No batch dimension (its state carries the batch in its second): one inference a request.
    expect(vad).toMatchObject({ inference_count: 3, execution_count: 3 });
    expect(await statsOf(`/v2/models/${IRIS}/versions/9/stats`)).toEqual([]);
    expect((await call("/v2/models/nothing-here/stats")).status).toBe(404);
  });

  it("survive the statistics object being evicted from memory", async () => {
    await json(await post("/v2/models/dtypes/infer", { inputs: [{ name: "x_bool", datatype: "BOOL", shape: [1], data: [true] }] }), 400);
    for (let i = 0; i < 2; i++) await json(await post(`/v2/models/${IRIS}/infer`, { inputs: [irisBatch(1)] }));
    const before = await untilCount(`/v2/models/${IRIS}/stats`, 2);
    await evictDurableObject(testEnv.MODEL_STATS.get(testEnv.MODEL_STATS.idFromName(IRIS)));
    expect((await statsOf(`/v2/models/${IRIS}/stats`))[0]!.inference_count).toBe(before.inference_count);
  });

  it("are exposed as Prometheus text to the admin token only", async () => {
    const before = (await statsOf(`/v2/models/${IRIS}/stats`))[0]?.latency_ms.histogram.count ?? 0;
    for (let i = 0; i < 3; i++) await json(await post(`/v2/models/${IRIS}/infer`, { inputs: [irisBatch(2)] }));
    await untilCount(`/v2/models/${IRIS}/stats`, before + 3);
    expect((await callRaw("/metrics")).status).toBe(401);
    const res = await callRaw("/metrics", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    const families = new Map<string, string>();
    const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
    for (const line of text.trimEnd().split("\n")) {
      const type = /^# TYPE ([a-z_]+) (counter|histogram|gauge)$/.exec(line);
      if (type) families.set(type[1]!, type[2]!);
      if (line.startsWith("#")) {
        expect(line).toMatch(/^# (HELP|TYPE) [a-z_]+ .+$/);
        continue;
      }
      const m = /^([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\} (-?[0-9.e+-]+|\+Inf)$/.exec(line);
      expect(m, line).not.toBeNull();
      const labels = Object.fromEntries([...m![2]!.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      samples.push({ name: m![1]!, labels, value: Number(m![3]) });
    }
    expect(families.get("edge_inference_requests_total")).toBe("counter");
    expect(families.get("edge_inference_request_duration_seconds")).toBe("histogram");
    const requests = samples.filter((s) => s.name === "edge_inference_requests_total" && s.labels.model === IRIS && s.labels.outcome === "success");
    const recorded = (await statsOf(`/v2/models/${IRIS}/stats`))[0]!;
    expect(recorded.inference_stats.success.count).toBeGreaterThanOrEqual(3);
    expect(requests.reduce((a, s) => a + s.value, 0)).toBe(recorded.inference_stats.success.count);
    const irisSample = (name: string) => samples.find((s) => s.name === name && s.labels.model === IRIS && s.labels.version === "1")?.value;
    expect(families.get("edge_inference_inferences_total")).toBe("counter");
    expect(irisSample("edge_inference_inferences_total")).toBe(recorded.inference_count);
    expect(irisSample("edge_inference_executions_total")).toBe(recorded.execution_count);
    expect(requests[0]!.labels.tenant).toBe("tests");
    const buckets = samples.filter((s) => s.name === "edge_inference_request_duration_seconds_bucket" && s.labels.model === IRIS);
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b)); // cumulative
    const count = samples.find((s) => s.name === "edge_inference_request_duration_seconds_count" && s.labels.model === IRIS)!.value;
    expect(buckets.find((b) => b.labels.le === "+Inf")!.value).toBe(count);
  });
});
