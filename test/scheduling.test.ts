/**
 * Deadlines, priorities and cancellation through the real Worker (docs/scheduling.md). Time is the
 * scheduler's clock, which these tests replace: no assertion depends on how fast the machine is.
 * A queue is held by a request whose body is still on its way (the batcher waits for it).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { isolateCore } from "../src/isolate-core";
import { adminCall, call, eventually, expectMatchesReference, json, post, reference, setup, uploadFixture, type JsonTensor } from "./support/helpers";
import { paused } from "./support/held-body";
import { prng } from "./support/inputs";

beforeAll(setup);

/** The scheduling clock of the isolate core the Worker serves these requests with. */
const schedulingClock = () => isolateCore(env).serving.clock;
afterEach(() => {
  schedulingClock().now = () => performance.now();
});

const IRIS = "iris/1/model.onnx";

/** `rows` plausible Iris rows, different for each seed. */
function rowsOf(seed: number, rows: number): JsonTensor {
  const rand = prng(seed);
  const data = Array.from({ length: rows * 4 }, (_, i) => Math.fround([5.8, 3.0, 3.8, 1.2][i % 4]! + (rand() - 0.5) * 2));
  return { name: "features", datatype: "FP32", shape: [rows, 4], data };
}

interface Batching { runs: number; requests: number; timedOut: number; rejected: number; cancelled: number; dropped: number; queued: number }
const batchingOf = async (model: string) => (await json<{ versions: { batching?: Batching }[] }>(await adminCall("GET", `/models/${model}`))).versions[0]!.batching!;
/** The isolate's request memory (GET /admin/isolate). */
const requestMemory = async () => (await json<{ request_memory: { reserved_bytes: number } }>(await adminCall("GET", "/isolate"))).request_memory;

interface TritonStat { execution_count: number; outcomes: Record<string, number>; batch_stats: { batch_size: number; compute_infer: { count: number } }[] }
const statsOf = async (model: string) => (await json<{ model_stats: TritonStat[] }>(await call(`/v2/models/${model}/stats`))).model_stats[0];

/** Publishes Iris as `model` with `config` and loads it with one request. */
async function ready(model: string, config: object): Promise<void> {
  await uploadFixture(model, 1, IRIS);
  await json(await adminCall("PUT", `/models/${model}/config`, config));
  await json(await post(`/v2/models/${model}/infer`, { inputs: [rowsOf(1, 1)] }));
}

/** A clock that moves a millisecond each time it is read: any deadline of a microsecond has passed by the next reading. */
function steppingClock(): void {
  let t = 0;
  schedulingClock().now = () => (t += 1);
}

/**
 * A clock that stands still until `pass(ms)`: no batching delay or limit passes by itself, so a
 * held queue stays held.
 */
function manualClock() {
  let t = 0;
  schedulingClock().now = () => t;
  return { pass: (ms: number) => void (t += ms) };
}

/** Starts a prediction for `model` whose body stops short until `finish()`: the model's queue waits for it. */
function onItsWay(model: string, input: JsonTensor, parameters: object = {}) {
  const body = paused(new TextEncoder().encode(JSON.stringify({ inputs: [input], parameters })));
  const response = call(`/v2/models/${model}/infer`, { method: "POST", headers: { "content-type": "application/json" }, body: body.stream, duplex: "half" } as RequestInit);
  return { response, finish: body.finish };
}

describe("deadlines", () => {
  it("refuses a request with a 1 µs timeout without running it, in either protocol, batched or not", async () => {
    await ready("iris-t", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1, default_queue_policy: { allow_timeout_override: true } } });
    await ready("iris-u", {});
    const before = await batchingOf("iris-t");
    const executions = { t: (await statsOf("iris-t"))!.execution_count, u: (await statsOf("iris-u"))!.execution_count };
    steppingClock();
    const refused = [
      await post("/v2/models/iris-t/infer", { inputs: [rowsOf(2, 1)], parameters: { timeout: 1 } }),
      await post("/v1/models/iris-t:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] }, { "Inference-Timeout-Microseconds": "1" }),
      await post("/v2/models/iris-u/infer", { inputs: [rowsOf(3, 1)] }, { "Inference-Timeout-Microseconds": "1" }),
    ];
    for (const res of refused) {
      const body = await json<Record<string, string>>(res, 504);
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).toMatch(/^request timeout expired: the request waited \d+ µs for its turn, past its timeout of 1 µs, and was not run$/);
    }
    // Without a timeout, the same clock lets requests run.
    const input = rowsOf(4, 2);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await post("/v2/models/iris-t/infer", { inputs: [input] }))).outputs, await reference(IRIS, [input]));
    const after = await batchingOf("iris-t");
    expect(after.runs - before.runs).toBe(1);
    expect(after.requests - before.requests).toBe(1);
    expect(after.timedOut - before.timedOut).toBe(2);
    // Across isolates: no execution for the refused ones, each counted as deadline_exceeded.
    const t = await eventually(async () => {
      const s = await statsOf("iris-t");
      return s && (s.outcomes.deadline_exceeded ?? 0) >= 2 && s.outcomes.success === 2 ? s : undefined;
    }, "the refusals counted");
    expect(t.outcomes.deadline_exceeded).toBe(2);
    expect(t.execution_count).toBe(executions.t + 1);
    const u = await eventually(async () => {
      const s = await statsOf("iris-u");
      return s && s.outcomes.deadline_exceeded === 1 ? s : undefined;
    }, "the refusal counted");
    expect(u.execution_count).toBe(executions.u);
  });

  it("lets a request shorten its model's timeout only where the queue policy allows it", async () => {
    await ready("iris-v", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1, default_queue_policy: { allow_timeout_override: false } } });
    steppingClock();
    const input = rowsOf(5, 1);
    const res = await post("/v2/models/iris-v/infer", { inputs: [input], parameters: { timeout: 1 } });
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(res)).outputs, await reference(IRIS, [input]));
    // The model's own default applies to every request.
    await json(await adminCall("PUT", "/models/iris-v/config", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1, default_queue_policy: { default_timeout_microseconds: 1 } } }));
    expect((await json<{ error: string }>(await post("/v2/models/iris-v/infer", { inputs: [input] }), 504)).error).toContain("past its timeout of 1 µs");
  });

  it("refuses timeouts and priorities that are not whole numbers in range, with a 400", async () => {
    await ready("iris-w", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1, priority_levels: 2, default_priority_level: 2 } });
    const input = rowsOf(6, 1);
    expect((await json<{ error: string }>(await post("/v2/models/iris-w/infer", { inputs: [input], parameters: { timeout: -5 } }), 400)).error).toContain("parameter 'timeout' (microseconds) must be a whole number");
    expect((await json<{ error: string }>(await post("/v2/models/iris-w/infer", { inputs: [input], parameters: { priority: 3 } }), 400)).error).toContain("priority 3 is not one of the model's priority levels, 1 (highest) to 2");
    expect((await json<{ error: string }>(await post("/v1/models/iris-w:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] }, { "Inference-Priority": "high" }), 400)).error).toContain("header Inference-Priority must be a whole number");
    const refused = await json<{ error: string }>(await adminCall("PUT", "/models/iris-w/config", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1, priority_levels: 2, default_priority_level: 3 } }), 400);
    expect(refused.error).toContain("default_priority_level is required with priority_levels, and is one of them");
    const policies = await json<{ error: string }>(await adminCall("PUT", "/models/iris-w/config", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1, priority_levels: 2, default_priority_level: 2, priority_queue_policy: { "3": { max_queue_size: 1 } } } }), 400);
    expect(policies.error).toContain("priority_queue_policy names a level past priority_levels");
    const action = await json<{ error: string }>(await adminCall("PUT", "/models/iris-w/config", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1, default_queue_policy: { timeout_action: "DELAY" } } }), 400);
    expect(action.error).toContain("timeout_action");
  });
});

describe("a held queue", () => {
  it("runs by priority: a later high-priority request goes into the next batch ahead of those waiting", async () => {
    await ready("iris-p", { dynamic_batching: { max_batch_size: 4, max_queue_delay_ms: 1000, priority_levels: 2, default_priority_level: 2 } });
    const before = await batchingOf("iris-p");
    const sizesBefore = await eventually(async () => {
      const s = await statsOf("iris-p");
      return s && s.execution_count === before.runs ? s.batch_stats : undefined;
    }, "the warm-up counted");
    const clock = manualClock();
    const held = onItsWay("iris-p", rowsOf(10, 1));
    // Three single rows at the default level wait: the batch is not full, and a request is on its way.
    const low = [rowsOf(11, 1), rowsOf(12, 1), rowsOf(13, 1)];
    const lows = low.map((input) => post("/v2/models/iris-p/infer", { inputs: [input] }));
    await eventually(async () => ((await batchingOf("iris-p")).queued === 3 ? true : undefined), "three queued");
    // Two rows at level 1: they fill the batch with the first two waiting, ahead of the third.
    const high = rowsOf(14, 2);
    const highs = post("/v2/models/iris-p/infer", { inputs: [high], parameters: { priority: 1 } });
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await highs)).outputs, await reference(IRIS, [high]));
    expect((await batchingOf("iris-p")).queued).toBe(1);
    held.finish();
    // The last run held three: two wait out the delay for a third.
    clock.pass(1000);
    const answers = await Promise.all([held.response, ...lows]);
    for (const [i, input] of [rowsOf(10, 1), ...low].entries()) {
      expectMatchesReference((await json<{ outputs: JsonTensor[] }>(answers[i]!)).outputs, await reference(IRIS, [input]));
    }
    // Runs of 4 rows (high, then the first two low) and 2 (the third low and the one on its way);
    // first come first served would have run 3 (the low ones), then 3.
    const after = await batchingOf("iris-p");
    expect(after.runs - before.runs).toBe(2);
    const sizes = await eventually(async () => {
      const s = await statsOf("iris-p");
      return s && s.execution_count === after.runs ? s.batch_stats : undefined;
    }, "the runs counted");
    const grown = (size: number) => (sizes.find((b) => b.batch_size === size)?.compute_infer.count ?? 0) - (sizesBefore.find((b) => b.batch_size === size)?.compute_infer.count ?? 0);
    expect([grown(4), grown(2), grown(3)]).toEqual([1, 1, 0]);
  });

  it("refuses a request past its level's max_queue_size at once with 503 and Retry-After, and serves the rest", async () => {
    await ready("iris-q", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1000, priority_levels: 2, default_priority_level: 2, default_queue_policy: { max_queue_size: 2 } } });
    const before = await batchingOf("iris-q");
    const clock = manualClock();
    // On its way at level 1, which has a queue of its own.
    const held = onItsWay("iris-q", rowsOf(20, 1), { priority: 1 });
    const waiting = [rowsOf(21, 1), rowsOf(22, 1)];
    const answers = waiting.map((input) => post("/v2/models/iris-q/infer", { inputs: [input] }));
    await eventually(async () => ((await batchingOf("iris-q")).queued === 2 ? true : undefined), "two queued");
    for (const res of [await post("/v2/models/iris-q/infer", { inputs: [rowsOf(23, 1)] }), await post("/v1/models/iris-q:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] })]) {
      expect(res.headers.get("retry-after")).toBe("1");
      expect((await json<{ error: string }>(res, 503)).error).toContain("queue for priority level 2 is full (max_queue_size, 2 requests)");
    }
    held.finish();
    clock.pass(1000);
    for (const [i, res] of (await Promise.all([...answers, held.response])).entries()) {
      expectMatchesReference((await json<{ outputs: JsonTensor[] }>(res)).outputs, await reference(IRIS, [[...waiting, rowsOf(20, 1)][i]!]));
    }
    const after = await batchingOf("iris-q");
    expect(after.rejected - before.rejected).toBe(2);
    expect(after.requests - before.requests).toBe(3);
  });

  it("takes out a request whose client goes away while it waits, and never runs it", async () => {
    await ready("iris-c2", { dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 1000 } });
    const before = await batchingOf("iris-c2");
    const clock = manualClock();
    const held = onItsWay("iris-c2", rowsOf(30, 1));
    const leaving = new AbortController();
    const gone = call("/v2/models/iris-c2/infer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [rowsOf(31, 1)] }), signal: leaving.signal }).catch((e: unknown) => e);
    const staying = post("/v2/models/iris-c2/infer", { inputs: [rowsOf(32, 1)] });
    await eventually(async () => ((await batchingOf("iris-c2")).queued === 2 ? true : undefined), "two queued");
    leaving.abort();
    expect((await gone as Error).name).toBe("AbortError");
    await eventually(async () => ((await batchingOf("iris-c2")).queued === 1 ? true : undefined), "the request gone from the queue");
    held.finish();
    clock.pass(1000);
    for (const [i, res] of (await Promise.all([staying, held.response])).entries()) {
      expectMatchesReference((await json<{ outputs: JsonTensor[] }>(res)).outputs, await reference(IRIS, [[rowsOf(32, 1), rowsOf(30, 1)][i]!]));
    }
    // Counted where the isolate saw it go (workerd ends a request whose client left, so it writes no
    // response or log line of its own), and its row never ran.
    const after = await batchingOf("iris-c2");
    expect(after.cancelled - before.cancelled).toBe(1);
    expect(after.requests - before.requests).toBe(2);
    const rows = await eventually(async () => {
      const s = await statsOf("iris-c2");
      return s && s.execution_count === after.runs ? s.batch_stats.reduce((n, b) => n + b.batch_size * b.compute_infer.count, 0) : undefined;
    }, "the runs counted");
    expect(rows).toBe(after.requests);
    // Nor does it keep its body's bytes of the isolate's request memory.
    await eventually(async () => ((await requestMemory()).reserved_bytes === 0 ? true : undefined), "the gone request's memory given back");
  });
});
