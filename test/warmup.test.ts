/**
 * Triton's model warm-up (config.model_warmup) on the real models: a version is ready only once its
 * warm-up has run, counted in the load's record and kept out of the model's statistics; a warm-up
 * that fails makes the load fail with its reason while other models serve; the admin API refuses a
 * config or a publish whose warm-up cannot run; a rollout's background load warms too.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, call, eventually, expectMatchesReference, fixtureBytes, json, post, publish, reference, setup, testEnv, upload, uploadFixture, type JsonTensor } from "./support/helpers";

const IRIS = "iris/1/model.onnx";
const SILERO = "silero-vad/1/model.onnx";
const row: JsonTensor = { name: "features", datatype: "FP32", shape: [1, 4], data: [6.7, 3.0, 5.2, 2.3] };

/** A model written straight into R2, as another isolate's publish leaves it: this isolate loads it cold. */
async function seed(model: string, fixture: string, config: unknown, version = 1): Promise<void> {
  await publish(fixture, `${model}/${version}/model.onnx`);
  await testEnv.MODELS.put(`${model}/config.json`, JSON.stringify(config));
}

interface Described { versions: { version: number; load?: { warmup_runs: number; warmup_ms: number; create_ms: number } }[] }
const loadOf = async (model: string, version = 1) =>
  (await json<Described>(await adminCall("GET", `/models/${model}`))).versions.find((v) => v.version === version)?.load;

const irisWarmup = [
  { name: "zeros", batch_size: 2, inputs: { features: { data_type: "TYPE_FP32", dims: [4], zero_data: true } }, count: 3 },
  { name: "random", inputs: { features: { data_type: "FP32", dims: [4], random_data: true } } },
  { name: "given", inputs: { features: { data_type: "FP32", dims: [4], input_data: [5.1, 3.5, 1.4, 0.2] } }, count: 2 },
];
const IRIS_WARMUP_RUNS = 6;

beforeAll(setup);

describe("model_warmup", () => {
  it("runs every sample before the version reports ready, and not as the model's executions", async () => {
    await seed("warm-iris", IRIS, { max_batch_size: 8, model_warmup: irisWarmup });
    expect(await loadOf("warm-iris")).toBeUndefined();
    expect(await json(await call("/v2/models/warm-iris/versions/1/ready"))).toEqual({ name: "warm-iris", ready: true });
    const load = (await loadOf("warm-iris"))!;
    expect(load.warmup_runs).toBe(IRIS_WARMUP_RUNS);

    const body = await json<{ outputs: JsonTensor[] }>(await post("/v2/models/warm-iris/infer", { inputs: [row] }));
    expectMatchesReference(body.outputs, await reference(IRIS, [row]));
    // The user's request is the model's one execution: warm-up runs are the load's, not traffic.
    const stats = await eventually(async () => {
      const s = (await json<{ model_stats: { execution_count: number; inference_count: number }[] }>(await call("/v2/models/warm-iris/stats"))).model_stats[0];
      return s && s.execution_count > 0 ? s : undefined;
    }, "the request counted");
    expect(stats.execution_count).toBe(1);
    expect(stats.inference_count).toBe(1);
    expect((await loadOf("warm-iris"))!.warmup_runs).toBe(IRIS_WARMUP_RUNS);
  });

  it("warms Silero on given data, and fails its load with onnxruntime's reason on zeros", async () => {
    const given = { input: { data_type: "FP32", dims: [1, 512], random_data: true }, state: { data_type: "FP32", dims: [2, 1, 128], zero_data: true }, sr: { data_type: "TYPE_INT64", dims: [], input_data: [16000] } };
    await seed("warm-silero", SILERO, { model_warmup: [{ name: "speech", inputs: given, count: 2 }] });
    expect((await call("/v2/models/warm-silero/versions/1/ready")).status).toBe(200);
    expect((await loadOf("warm-silero"))!.warmup_runs).toBe(2);

    // A sample rate of 0 is refused by the model itself (not by the service's checks).
    await seed("warm-silero-zeros", SILERO, { model_warmup: [{ name: "zeros", inputs: { ...given, sr: { data_type: "INT64", dims: [], zero_data: true } } }] });
    const refused = await json<{ error: string }>(await call("/v2/models/warm-silero-zeros/versions/1/ready"), 503);
    expect(refused.error).toContain("model 'warm-silero-zeros' version 1 failed to load: warm-up sample 'zeros' failed:");
    expect(await loadOf("warm-silero-zeros")).toBeUndefined();
  });

  it("fails the load with the sample's reason, and every request for the version says so while others serve", async () => {
    await seed("warm-bad", IRIS, { model_warmup: [{ name: "wrong-input", inputs: { nope: { data_type: "FP32", dims: [1, 4], zero_data: true } } }] });
    const ready = await json<{ error: string }>(await call("/v2/models/warm-bad/versions/1/ready"), 503);
    expect(ready.error).toBe("model 'warm-bad' version 1 failed to load: warm-up sample 'wrong-input' failed: unknown input 'nope'; the model's inputs are 'features'");
    const infer = await json<{ error: string }>(await post("/v2/models/warm-bad/infer", { inputs: [row] }), 503);
    expect(infer.error).toBe(ready.error);
    const tf = await json<{ error: string }>(await call("/v1/models/warm-bad:predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ instances: [[6.7, 3.0, 5.2, 2.3]] }) }), 503);
    expect(tf.error).toContain("warm-up sample 'wrong-input' failed");
    const other = await json<{ outputs: JsonTensor[] }>(await post("/v2/models/iris/infer", { inputs: [row] }));
    expectMatchesReference(other.outputs, await reference(IRIS, [row]));
  });

  it("is checked by the admin API: a config whose warm-up cannot run, or a version that cannot run it, is refused", async () => {
    await uploadFixture("warm-admin", 1, IRIS);
    const bad = { max_batch_size: 8, model_warmup: [{ name: "short", inputs: { features: { data_type: "FP32", dims: [3], zero_data: true } } }] };
    const refused = await json<{ error: string; code: string }>(await adminCall("PUT", "/models/warm-admin/config", bad), 400);
    expect(refused.error).toBe("config refused, the old one keeps serving: model_warmup cannot run on version 1: warm-up sample 'short' failed: input 'features' has shape [1,3] but the model expects [-1,4] (-1 is any size)");
    const malformed = await json<{ error: string }>(await adminCall("PUT", "/models/warm-admin/config", { model_warmup: [{ name: "x", inputs: { features: { data_type: "FP32", dims: [1, 4], zero_data: true, random_data: true } } }] }), 400);
    expect(malformed.error).toContain("give exactly one of zero_data, random_data or input_data");
    await json(await adminCall("PUT", "/models/warm-admin/config", { max_batch_size: 8, model_warmup: irisWarmup }));

    // A new version runs the warm-up before it is written.
    const published = await json<{ warmup: { runs: number } }>(await upload("warm-admin", 2, await fixtureBytes("candidates/iris-retrained.onnx")), 201);
    expect(published.warmup.runs).toBe(IRIS_WARMUP_RUNS);
    // Silero has no input 'features': not published, with the reason.
    const notPublished = await json<{ error: string }>(await upload("warm-admin", 3, await fixtureBytes(SILERO)), 400);
    expect(notPublished.error).toContain("this model was not published: the model's config.model_warmup cannot run on it: warm-up sample 'zeros' failed: unknown input 'features'");
    const versions = (await json<Described>(await adminCall("GET", "/models/warm-admin"))).versions.map((v) => v.version);
    expect(versions).toEqual([1, 2]);
  });

  it("warms a rollout's new version in the background before routed traffic moves to it", async () => {
    await seed("warm-rollout", IRIS, { max_batch_size: 8, model_warmup: irisWarmup });
    const served = async () => (await json<{ model_version: string }>(await post("/v2/models/warm-rollout/infer", { inputs: [row] }))).model_version;
    expect(await served()).toBe("1");
    // Version 2 appears in R2 as another isolate's publish leaves it: this isolate has not loaded it.
    await publish("candidates/iris-retrained.onnx", "warm-rollout/2/model.onnx");
    const moved = await eventually(async () => ((await served()) === "2" ? true : undefined), "routed traffic on version 2");
    expect(moved).toBe(true);
    expect((await loadOf("warm-rollout", 2))!.warmup_runs).toBe(IRIS_WARMUP_RUNS);
  });
});
