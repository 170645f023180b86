/** Dynamic batching: concurrent requests joined into one run, each answer still its own. */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { runtimeStartModel } from "../src/serving/loader";
import { paused } from "./support/held-body";
import { ADMIN_TOKEN, adminCall, call, eventually, expectMatchesReference, json, post, reference, setup, tenantKey, upload, uploadFixture, type JsonTensor } from "./support/helpers";
import { prng, sileroInputs } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";

/** `rows` random but plausible Iris rows, different for each seed. */
function rowsOf(seed: number, rows: number): JsonTensor {
  const rand = prng(seed);
  const data = Array.from({ length: rows * 4 }, (_, i) => Math.fround([5.8, 3.0, 3.8, 1.2][i % 4]! + (rand() - 0.5) * 2));
  return { name: "features", datatype: "FP32", shape: [rows, 4], data };
}

interface TritonStat { inference_count: number; execution_count: number; batch_stats: { batch_size: number; compute_infer: { count: number } }[] }
interface VersionView { version: number; batching?: { runs: number; requests: number; largestBatch: number } }
const batchingOf = async (model: string) => (await json<{ versions: VersionView[] }>(await adminCall("GET", `/models/${model}`))).versions[0]!.batching;

describe("dynamic batching", () => {
  it("joins concurrent requests into fewer runs and gives each its own rows back", async () => {
    await uploadFixture("iris-b", 1, IRIS);
    await json(await adminCall("PUT", "/models/iris-b/config", { dynamic_batching: { max_batch_size: 64, max_queue_delay_ms: 5 } }));
    const requests = Array.from({ length: 24 }, (_, i) => rowsOf(i, 1 + (i % 3)));
    const responses = await Promise.all(requests.map((input) => post("/v2/models/iris-b/infer", { inputs: [input] })));
    for (const [i, res] of responses.entries()) {
      const body = await json<{ outputs: JsonTensor[] }>(res);
      expectMatchesReference(body.outputs, await reference(IRIS, [requests[i]!]));
    }
    const stats = (await batchingOf("iris-b"))!;
    expect(stats.requests).toBe(24);
    expect(stats.runs).toBeLessThan(24);
    expect(stats.largestBatch).toBeGreaterThan(1);
    // Triton's statistics: every row an inference, every joined run one execution, by batch size.
    const rows = requests.reduce((n, r) => n + r.shape[0]!, 0);
    const model = await eventually(async () => {
      const s = (await json<{ model_stats: TritonStat[] }>(await call("/v2/models/iris-b/stats"))).model_stats[0];
      return s && s.inference_count === rows ? s : undefined;
    }, "the batch's inferences counted");
    expect(model.execution_count).toBe(stats.runs);
    expect(model.batch_stats.reduce((n, b) => n + b.compute_infer.count, 0)).toBe(stats.runs);
    expect(model.batch_stats.reduce((n, b) => n + b.batch_size * b.compute_infer.count, 0)).toBe(rows);
    expect(Math.max(...model.batch_stats.map((b) => b.batch_size))).toBeGreaterThanOrEqual(stats.largestBatch);
  });

  it("runs a lone caller's requests at once, and holds a batch no longer than its bound", async () => {
    // Told by the order answers arrive in, not by elapsed time. On iris-h a request waits for one
    // still on its way (a body held back), up to INBOUND_WAIT_LIMIT times the delay; on iris-d a
    // lone request, with a delay of a second, is not held at all and answers first.
    await uploadFixture("iris-d", 1, IRIS);
    await json(await adminCall("PUT", "/models/iris-d/config", { dynamic_batching: { max_batch_size: 4, max_queue_delay_ms: 1000 } }));
    await uploadFixture("iris-h", 1, IRIS);
    await json(await adminCall("PUT", "/models/iris-h/config", { dynamic_batching: { max_batch_size: 4, max_queue_delay_ms: 250 } }));
    const key = await tenantKey("batching-order", { requests_per_minute: 1_000_000, burst: 1_000_000 });
    const app = createApp();
    // The held body may pause longer than the tests' usual body timeout.
    const patient = { ...env, REQUEST_BODY_TIMEOUT_MS: "30000" };
    const send = (model: string, body: BodyInit, length: number) =>
      app.fetch(
        new Request(`https://edge.test/v2/models/${model}/infer`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(length) }, body }),
        patient,
        createExecutionContext(),
      );
    const bodyOf = (input: JsonTensor) => new TextEncoder().encode(JSON.stringify({ inputs: [input] }));
    const infer = async (model: string, input: JsonTensor) => {
      const body = bodyOf(input);
      expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await send(model, body, body.byteLength))).outputs, await reference(IRIS, [input]));
    };
    await infer("iris-d", rowsOf(1, 1)); // loads the sessions
    await infer("iris-h", rowsOf(2, 1));
    const reserved = async () => {
      const res = await app.fetch(new Request("https://edge.test/admin/isolate", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), patient, createExecutionContext());
      return (await json<{ request_memory: { reserved_bytes: number } }>(res)).request_memory.reserved_bytes;
    };

    // A request to iris-h whose body is held back: it is on its way to iris-h's batcher.
    const onItsWay = rowsOf(3, 1);
    const pausedBody = paused(bodyOf(onItsWay));
    const pending = send("iris-h", pausedBody.stream, bodyOf(onItsWay).byteLength);
    await eventually(async () => ((await reserved()) > 0 ? true : undefined), "the held body's first part read");
    const before = (await batchingOf("iris-h"))!;
    const order: string[] = [];
    const held = infer("iris-h", rowsOf(4, 1)).then(() => order.push("held"));
    for (let i = 0; i < 3; i++) await infer("iris-d", rowsOf(5 + i, 1)).then(() => order.push(`lone ${i}`));
    await held;
    expect(order).toEqual(["lone 0", "lone 1", "lone 2", "held"]);
    // The held request ran alone while the other was still on its way: its wait has a bound.
    const after = (await batchingOf("iris-h"))!;
    expect([after.runs - before.runs, after.requests - before.requests]).toEqual([1, 1]);
    const d = (await batchingOf("iris-d"))!;
    expect([d.runs, d.requests, d.largestBatch]).toEqual([4, 4, 1]);
    pausedBody.finish();
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await pending)).outputs, await reference(IRIS, [onItsWay]));
  });

  it("never lets a bad request spoil the batch, and keeps different output sets apart", async () => {
    await uploadFixture("iris-c", 1, IRIS);
    await json(await adminCall("PUT", "/models/iris-c/config", { dynamic_batching: { max_batch_size: 4, max_queue_delay_ms: 20 } }));
    const good = Array.from({ length: 9 }, (_, i) => rowsOf(100 + i, 1 + (i % 2)));
    const labelsOnly = rowsOf(7, 2);
    const results = await Promise.all([
      ...good.map((input) => post("/v2/models/iris-c/infer", { inputs: [input] })),
      post("/v2/models/iris-c/infer", { inputs: [{ name: "features", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }] }),
      post("/v2/models/iris-c/infer", { inputs: [labelsOnly], outputs: [{ name: "label" }] }),
      post("/v1/models/iris-c:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] }),
    ]);
    for (const [i, input] of good.entries()) {
      expectMatchesReference((await json<{ outputs: JsonTensor[] }>(results[i]!)).outputs, await reference(IRIS, [input]));
    }
    expect((await json<{ error: string }>(results[9]!, 400)).error).toContain("shape [1,3]");
    const labels = await json<{ outputs: JsonTensor[] }>(results[10]!);
    expectMatchesReference(labels.outputs, await reference(IRIS, [labelsOnly], ["label"]));
    expect((await json<{ predictions: unknown[] }>(results[11]!)).predictions).toHaveLength(1);
    const stats = (await batchingOf("iris-c"))!;
    expect(stats.largestBatch).toBeLessThanOrEqual(4);
  });

  it("still answers the rest of a batch when the client of the request that runs it goes away", async () => {
    await uploadFixture("iris-e", 1, IRIS);
    await json(await adminCall("PUT", "/models/iris-e/config", { dynamic_batching: { max_batch_size: 64, max_queue_delay_ms: 50 } }));
    await json(await post("/v2/models/iris-e/infer", { inputs: [rowsOf(1, 1)] })); // loads the session
    const before = (await batchingOf("iris-e"))!;
    const leaving = new AbortController();
    const first = call("/v2/models/iris-e/infer", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [rowsOf(50, 1)] }), signal: leaving.signal,
    }).catch((e: unknown) => e);
    const rest = Array.from({ length: 7 }, (_, i) => rowsOf(60 + i, 1));
    const responses = rest.map((input) => post("/v2/models/iris-e/infer", { inputs: [input] }));
    leaving.abort();
    await first;
    for (const [i, res] of (await Promise.all(responses)).entries()) {
      expectMatchesReference((await json<{ outputs: JsonTensor[] }>(res)).outputs, await reference(IRIS, [rest[i]!]));
    }
    const after = (await batchingOf("iris-e"))!;
    expect(after.requests - before.requests).toBeGreaterThanOrEqual(7);
    expect(after.runs - before.runs).toBeLessThan(7);
  });

  it("batches a recurrent model along the axes the config names, each stream with its own state", async () => {
    const VAD = "silero-vad/1/model.onnx";
    await uploadFixture("vad-s", 1, VAD);
    const batching = { max_batch_size: 16, max_queue_delay_ms: 20, batch_axes: { state: 1, stateN: 1 }, unbatched_inputs: ["sr"] };
    await json(await adminCall("PUT", "/models/vad-s/config", { dynamic_batching: batching }));
    // One chunk of each of 8 streams, each mid-way (its own state), and one 8 kHz stream (its `sr`
    // and chunk of 256 samples differ, so it must run apart).
    const streams = Array.from({ length: 9 }, (_, i) => {
      const rand = prng(300 + i);
      const [input, state] = sileroInputs(1, 400 + i);
      const audio = i === 8 ? { ...input!, shape: [1, 256], data: input!.data.slice(0, 256) } : input!;
      return [audio, { ...state!, data: state!.data.map(() => Math.fround((rand() - 0.5) * 0.4)) }, { name: "sr", datatype: "INT64", shape: [], data: [i === 8 ? 8000 : 16000] }];
    });
    await json(await post("/v2/models/vad-s/infer", { inputs: streams[0] })); // loads the session
    const before = (await batchingOf("vad-s"))!;
    // And one request whose chunk (2 rows) and state (1) disagree on the batch: it fails alone.
    const [two] = sileroInputs(2, 9);
    const mismatched = post("/v2/models/vad-s/infer", { inputs: [two!, streams[1]![1]!, streams[1]![2]!] });
    const responses = await Promise.all(streams.map((inputs) => post("/v2/models/vad-s/infer", { inputs })));
    for (const [i, res] of responses.entries()) {
      expectMatchesReference((await json<{ outputs: JsonTensor[] }>(res)).outputs, await reference(VAD, streams[i]!));
    }
    expect((await json<{ error: string }>(await mismatched, 400)).error).toContain("could not run on this input");
    const after = (await batchingOf("vad-s"))!;
    expect(after.requests - before.requests).toBe(10);
    expect(after.runs - before.runs).toBeLessThan(10);
    expect(after.runs - before.runs).toBeGreaterThanOrEqual(3); // the 8 kHz stream and the mismatched request ran apart
  });

  it("refuses batch axes and unbatched inputs that do not fit the model", async () => {
    await uploadFixture("vad-x", 1, "silero-vad/1/model.onnx");
    const refused = async (model: string, extra: object) =>
      (await json<{ error: string }>(await adminCall("PUT", `/models/${model}/config`, { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 2, ...extra } }), 400)).error;
    expect(await refused("vad-x", { batch_axes: { state: 1, stateN: 1, hidden: 1 }, unbatched_inputs: ["sr"] })).toContain("no input or output 'hidden'");
    expect(await refused("vad-x", { batch_axes: { state: 1, stateN: 1 }, unbatched_inputs: ["stateN", "sr"] })).toContain("'stateN' is an output");
    expect(await refused("vad-x", { batch_axes: { state: 1, stateN: 1 } })).toContain("'sr' has shape []");
    expect(await refused("vad-x", { batch_axes: { state: 2, stateN: 1 }, unbatched_inputs: ["sr"] })).toContain("'state' has shape [2,-1,128], with no dynamic dimension 2");
    await uploadFixture("iris-x", 1, IRIS);
    expect(await refused("iris-x", { batch_axes: { features: 1 } })).toContain("'features' has shape [-1,4]");
  });

  it("is refused for a model without a batch dimension everywhere", async () => {
    await uploadFixture("vad-b", 1, "silero-vad/1/model.onnx");
    const res = await adminCall("PUT", "/models/vad-b/config", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 2 } });
    const body = await json<{ error: string }>(res, 400);
    expect(body.error).toContain("'state' has shape [2,-1,128], with no dynamic dimension 0 to batch along");
    const bad = await adminCall("PUT", "/models/vad-b/config", { dynamic_batching: { max_batch_size: 0, max_queue_delay_ms: 2 } });
    expect(bad.status).toBe(400);
  });
});

describe("max_batch_size: the most rows one request may carry", () => {
  const tooMany = /carries \d+ rows along its batch dimension \(\d\); model '[\w-]+' takes at most \d+ per request \(max_batch_size\)/;

  it("refuses a larger request with a 400 in either protocol, and serves one within it", async () => {
    await uploadFixture("iris-m", 1, IRIS);
    await json(await adminCall("PUT", "/models/iris-m/config", { max_batch_size: 4 }));
    const four = rowsOf(1, 4);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await post("/v2/models/iris-m/infer", { inputs: [four] }))).outputs, await reference(IRIS, [four]));
    const error = (await json<{ error: string }>(await post("/v2/models/iris-m/infer", { inputs: [rowsOf(2, 5)] }), 400)).error;
    expect(error).toMatch(tooMany);
    expect(error).toContain("'features' carries 5 rows");
    const instances = (n: number) => Array.from({ length: n }, () => [5.1, 3.5, 1.4, 0.2]);
    expect((await json<{ predictions: unknown[] }>(await post("/v1/models/iris-m:predict", { instances: instances(4) }))).predictions).toHaveLength(4);
    const tf = await json<Record<string, string>>(await post("/v1/models/iris-m:predict", { instances: instances(5) }), 400);
    expect(Object.keys(tf)).toEqual(["error"]);
    expect(tf.error).toMatch(tooMany);
  });

  it("counts rows along the axes dynamic_batching names, and bounds the joined batch too", async () => {
    const VAD = "silero-vad/1/model.onnx";
    await uploadFixture("vad-m", 1, VAD);
    const layout = { batch_axes: { state: 1, stateN: 1 }, unbatched_inputs: ["sr"] };
    // A joined batch larger than a request may be is refused with the config.
    const refused = await json<{ error: string }>(await adminCall("PUT", "/models/vad-m/config", { max_batch_size: 2, dynamic_batching: { max_batch_size: 4, max_queue_delay_ms: 2, ...layout } }), 400);
    expect(refused.error).toContain("dynamic_batching.max_batch_size may not exceed the model's max_batch_size");
    await json(await adminCall("PUT", "/models/vad-m/config", { max_batch_size: 2, dynamic_batching: { max_batch_size: 2, max_queue_delay_ms: 2, ...layout } }));
    const two = sileroInputs(2, 5);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await post("/v2/models/vad-m/infer", { inputs: two }))).outputs, await reference(VAD, two));
    // Three chunks with a state for one: 'input' is counted along 0. One chunk with a state for
    // three: 'state' is counted along 1, the axis batch_axes names.
    const [chunks3] = sileroInputs(3, 6);
    const [, state3] = sileroInputs(3, 6);
    const [chunk1, state1, sr] = sileroInputs(1, 6);
    expect((await json<{ error: string }>(await post("/v2/models/vad-m/infer", { inputs: [chunks3, state1, sr] }), 400)).error).toContain("'input' carries 3 rows along its batch dimension (0)");
    expect((await json<{ error: string }>(await post("/v2/models/vad-m/infer", { inputs: [chunk1, state3, sr] }), 400)).error).toContain("'state' carries 3 rows along its batch dimension (1)");
  });

  it("is refused for a model with no dynamic batch dimension", async () => {
    await json(await upload("fixed-m", 1, runtimeStartModel()), 201);
    const refused = await json<{ error: string }>(await adminCall("PUT", "/models/fixed-m/config", { max_batch_size: 4 }), 400);
    expect(refused.error).toContain("max_batch_size needs an input of version 1 with a dynamic batch dimension");
    expect((await adminCall("PUT", "/models/fixed-m/config", { max_batch_size: 0 })).status).toBe(400);
  });
});
