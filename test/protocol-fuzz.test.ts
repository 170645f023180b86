/**
 * Requests near a valid one, over the real Worker and real models (fast-check): shapes the
 * signature allows but the graph may not (a batch of 0, batches that disagree between inputs, a
 * sample rate the model does not know), wrong datatypes, unknown inputs and outputs; KServe JSON
 * or binary, or TF Serving's columnar JSON. Each answer is a prediction or a 400 in the
 * protocol's error shape, never a 500 or a 503, and the model still answers a good request as
 * onnxruntime-node does afterwards. Then attacks mixed in among good requests (issue 23): answers
 * far over MAX_RESPONSE_BYTES, bodies that stall, drip or are dropped mid-way: each gets its own
 * 4xx, no 5xx but the documented 503 and 507, and the good requests beside them are answered.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { DATATYPES } from "../src/tensor/datatype";
import { nest } from "../src/tensor/tensor";
import { binaryBody, toBytes } from "./support/binary-wire";
import { adminCall, call, callRaw, expectMatchesReference, json, post, reference, setup, tenantKey, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch, sileroInputs } from "./support/inputs";

beforeAll(setup);

/** What an arbitrary generates. */
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** Values of `count` elements that decode as `datatype`. */
function valuesOf(datatype: string, count: number, seed: number): unknown[] {
  return Array.from({ length: count }, (_, i) => {
    const v = (seed + i) % 7;
    if (datatype === "BOOL") return v % 2 === 0;
    if (datatype === "BYTES") return `s${v}`;
    if (datatype.startsWith("FP")) return v / 4 - 0.5;
    return v;
  });
}

/** A tensor like `t` with another shape or datatype (its data made to fit, so decoding passes). */
const tensorLike = (t: JsonTensor, shape: number[], datatype = t.datatype, seed = 1): JsonTensor => ({
  name: t.name,
  datatype,
  shape,
  data: valuesOf(datatype, shape.reduce((n, d) => n * d, 1), seed),
});

/**
 * Mutations of one input, weighted toward those the signature lets through to the graph: its
 * batch (first dimension), one of its dimensions; then its rank, datatype or name, or dropping it.
 */
const inputMutation = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("batch" as const), size: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("dimension" as const), axis: fc.nat({ max: 3 }), size: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rank" as const), shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("datatype" as const), datatype: fc.constantFrom(...DATATYPES) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("name" as const), name: fc.constantFrom("unknown", "") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const) }) },
);

function mutate(t: JsonTensor, m: ValueOf<typeof inputMutation> | null, seed: number): JsonTensor | null {
  if (!m) return t;
  switch (m.kind) {
    case "batch": return t.shape.length === 0 ? t : tensorLike(t, [m.size, ...t.shape.slice(1)], t.datatype, seed);
    case "dimension": return t.shape.length === 0 ? t : tensorLike(t, t.shape.map((d, i) => (i === m.axis % t.shape.length ? m.size : d)), t.datatype, seed);
    case "rank": return tensorLike(t, m.shape, t.datatype, seed);
    case "datatype": return tensorLike(t, t.shape, m.datatype, seed);
    case "name": return { ...t, name: m.name };
    case "drop": return null;
  }
}

/** A request: each input perhaps mutated, perhaps an odd scalar value, some outputs asked for, JSON or binary. */
function requests(inputs: JsonTensor[], outputs: string[]) {
  return fc.record({
    mutations: fc.array(fc.option(inputMutation, { freq: 2 }), { minLength: inputs.length, maxLength: inputs.length }),
    scalar: fc.option(fc.constantFrom(0, -1, 1, 8000, 16000, 44100, 2 ** 31), { freq: 2 }),
    outputs: fc.option(fc.oneof({ weight: 4, arbitrary: fc.subarray(outputs, { minLength: 1 }).map((o): string[] => [...o]) }, { weight: 1, arbitrary: fc.constant<string[]>([outputs[0]!, "nope"]) })),
    binaryOutput: fc.boolean(),
    /** KServe JSON, KServe binary, or TF Serving's columnar format (which infers shapes from nesting). */
    wire: fc.constantFrom("json" as const, "binary" as const, "tf" as const),
    seed: fc.nat({ max: 100 }),
  });
}

async function send(model: string, base: JsonTensor[], r: ValueOf<ReturnType<typeof requests>>): Promise<Response> {
  const inputs = base
    .map((t, i) => mutate(t, r.mutations[i] ?? null, r.seed))
    .filter((t): t is JsonTensor => t !== null)
    .map((t) => (t.shape.length === 0 && r.scalar !== null && t.datatype === "INT64" ? { ...t, data: [r.scalar] } : t));
  const outputs = r.outputs?.map((name) => ({ name, parameters: { binary_data: r.binaryOutput } }));
  const path = `/v2/models/${model}/infer`;
  if (r.wire === "tf") return post(`/v1/models/${model}:predict`, { inputs: Object.fromEntries(inputs.map((t) => [t.name, nest(t.data, t.shape)])) });
  if (r.wire === "json") return post(path, { inputs, ...(outputs ? { outputs } : {}) });
  const parts = inputs.map((t) => toBytes(t.datatype, t.data));
  const { body, headerLength } = binaryBody(
    {
      inputs: inputs.map((t, i) => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: parts[i]!.byteLength } })),
      ...(outputs ? { outputs } : {}),
    },
    parts,
  );
  return call(path, { method: "POST", headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) }, body });
}

/** Fails unless `res` is a prediction or a 400 with a KServe error body. */
async function predictionOr400(res: Response): Promise<number> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  // A binary answer is framed bytes; anything else is JSON.
  const text = res.headers.get("content-type")?.startsWith("application/json") ? new TextDecoder().decode(bytes) : `${bytes.byteLength} bytes`;
  expect([200, 400], `${res.status}: ${text.slice(0, 300)}`).toContain(res.status);
  if (res.status === 400) expect(typeof (JSON.parse(text) as { error?: unknown }).error).toBe("string");
  return res.status;
}

describe("requests near a valid one", () => {
  const cases = [
    { model: "iris", file: "iris/1/model.onnx", inputs: [irisBatch(3)], outputs: ["probabilities", "label"] },
    { model: "silero-vad", file: "silero-vad/1/model.onnx", inputs: sileroInputs(2), outputs: ["output", "stateN"] },
  ];
  for (const c of cases) {
    it(`${c.model}: a prediction or a 400, and the model still serves a good request correctly`, async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(requests(c.inputs, c.outputs), async (r) => {
          const status = await predictionOr400(await send(c.model, c.inputs, r));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }),
        { numRuns: 80 },
      );
      // Both answers were reached: the fuzzing got past decoding into the model.
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
      const body = await json<{ outputs: JsonTensor[] }>(await post(`/v2/models/${c.model}/infer`, { inputs: c.inputs }));
      expectMatchesReference(body.outputs, await reference(c.file, c.inputs));
    });
  }
});

describe("requests near a valid one, under dynamic batching", () => {
  it("answers each good request of a burst as if it ran alone, and each mutated one with a prediction or a 400", async () => {
    const VAD = "silero-vad/1/model.onnx";
    await uploadFixture("vad-fuzz", 1, VAD);
    const batching = { max_batch_size: 8, max_queue_delay_ms: 20, batch_axes: { state: 1, stateN: 1 }, unbatched_inputs: ["sr"] };
    await json(await adminCall("PUT", "/models/vad-fuzz/config", { dynamic_batching: batching }));
    const good = fc.record({ good: fc.constant(true as const), batch: fc.integer({ min: 1, max: 3 }), seed: fc.nat({ max: 1000 }) });
    const bad = fc.record({ good: fc.constant(false as const), batch: fc.integer({ min: 1, max: 3 }), seed: fc.nat({ max: 1000 }), request: requests(sileroInputs(1), ["output", "stateN"]) });
    const burst = fc.array(fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: bad }), { minLength: 2, maxLength: 7 });
    let joined = 0;
    await fc.assert(
      fc.asyncProperty(burst, async (members) => {
        const before = (await json<{ versions: { batching?: { runs: number; requests: number } }[] }>(await adminCall("GET", "/models/vad-fuzz"))).versions[0]!.batching;
        const sent = members.map((m) => sileroInputs(m.batch, m.seed));
        const responses = await Promise.all(members.map((m, i) => (m.good ? post("/v2/models/vad-fuzz/infer", { inputs: sent[i] }) : send("vad-fuzz", sent[i]!, m.request))));
        for (const [i, m] of members.entries()) {
          if (m.good) expectMatchesReference((await json<{ outputs: JsonTensor[] }>(responses[i]!)).outputs, await reference(VAD, sent[i]!));
          else await predictionOr400(responses[i]!);
        }
        const after = (await json<{ versions: { batching?: { runs: number; requests: number } }[] }>(await adminCall("GET", "/models/vad-fuzz"))).versions[0]!.batching!;
        if (before && after.runs - before.runs < after.requests - before.requests) joined++;
      }),
      { numRuns: 12 },
    );
    // Some bursts were joined into fewer runs: the batches were real.
    expect(joined).toBeGreaterThan(0);
  });
});

describe("attacks mixed in among good requests", () => {
  const HUGE = "built/constant-of-shape.onnx";
  const encoder = new TextEncoder();

  /** A body that sends `first`, then (every `everyMs`, or never) a byte more; it ends only when `ends`, short of the length declared. */
  function slowBody(first: string, everyMs: number, ends: boolean): ReadableStream<Uint8Array> {
    let timer: ReturnType<typeof setInterval> | undefined;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(first));
        if (ends) setTimeout(() => controller.close(), 10);
        else if (everyMs > 0) timer = setInterval(() => controller.enqueue(encoder.encode(" ")), everyMs);
      },
      cancel() {
        if (timer !== undefined) clearInterval(timer);
      },
    });
  }

  const attack = fc.oneof(
    fc.record({ kind: fc.constant("huge-json" as const), log2: fc.integer({ min: 21, max: 24 }) }),
    fc.record({ kind: fc.constant("huge-binary" as const), log2: fc.integer({ min: 23, max: 24 }) }),
    fc.record({ kind: fc.constant("huge-tf" as const), log2: fc.integer({ min: 21, max: 24 }), rows: fc.boolean() }),
    fc.record({ kind: fc.constant("stalled" as const), tf: fc.boolean() }),
    fc.record({ kind: fc.constant("dripping" as const), tf: fc.boolean() }),
    fc.record({ kind: fc.constant("dropped" as const), tf: fc.boolean() }),
  );
  type Attack = ValueOf<typeof attack>;

  /** The attack's request, and the status it must get. */
  function launch(a: Attack, key: string): { res: Promise<Response>; want: number } {
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const infer = "/v2/models/fuzz-huge/infer";
    switch (a.kind) {
      case "huge-json":
        return { res: callRaw(infer, { method: "POST", headers, body: JSON.stringify({ inputs: [{ name: "shape", datatype: "INT64", shape: [2], data: [1, 2 ** a.log2] }] }) }), want: 413 };
      case "huge-binary": {
        const body = JSON.stringify({ inputs: [{ name: "shape", datatype: "INT64", shape: [2], data: [2, 2 ** (a.log2 - 1)] }], parameters: { binary_data_output: true } });
        return { res: callRaw(infer, { method: "POST", headers, body }), want: 413 };
      }
      case "huge-tf": {
        const body = a.rows ? { instances: [2, 2 ** (a.log2 - 1)] } : { inputs: { shape: [1, 2 ** a.log2] } };
        return { res: callRaw("/v1/models/fuzz-huge:predict", { method: "POST", headers, body: JSON.stringify(body) }), want: 413 };
      }
      case "stalled":
      case "dripping":
      case "dropped": {
        const path = a.tf ? "/v1/models/iris:predict" : "/v2/models/iris/infer";
        const body = slowBody(a.tf ? '{"instances": [' : '{"inputs": [', a.kind === "dripping" ? 100 : 0, a.kind === "dropped");
        return { res: callRaw(path, { method: "POST", headers: { ...headers, "content-length": "100000" }, body }), want: a.kind === "dropped" ? 499 : 408 };
      }
    }
  }

  it("each attack gets its own 4xx in the protocol's shape, never a 5xx, and good requests beside them are answered", async () => {
    await uploadFixture("fuzz-huge", 1, HUGE);
    const attacker = await tenantKey("fuzz-attacker", { requests_per_minute: 1_000_000, burst: 1_000_000 });
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(attack, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 5 }), async (attacks, rows) => {
        const launched = attacks.map((a) => launch(a, attacker));
        const good = irisBatch(rows);
        const answer = await post("/v2/models/iris/infer", { inputs: [good] });
        expectMatchesReference((await json<{ outputs: JsonTensor[] }>(answer)).outputs, await reference("iris/1/model.onnx", [good]));
        for (const [i, { res, want }] of launched.entries()) {
          const r = await res;
          const text = await r.text();
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          // Never a 5xx but the documented refusals for memory in use.
          if (r.status >= 500) expect([503, 507], `${attacks[i]!.kind}: ${r.status} ${text.slice(0, 200)}`).toContain(r.status);
          else expect(r.status, `${attacks[i]!.kind}: ${text.slice(0, 200)}`).toBe(want);
          expect(Object.keys(JSON.parse(text) as object)).toEqual(["error"]);
        }
      }),
      // One of each status among the runs for certain, besides the random ones. The certain 413
      // asks for the smallest huge output: in this shared isolate's grown heap a larger one may
      // meet onnxruntime's cap first (a 507, also allowed).
      { numRuns: 10, examples: [[[{ kind: "huge-json", log2: 21 }, { kind: "stalled", tf: false }, { kind: "dropped", tf: true }], 1]] },
    );
    // Past the response limit, past the body timeouts, and dropped: the fuzz reached each.
    expect(Math.min(seen.get(413) ?? 0, seen.get(408) ?? 0, seen.get(499) ?? 0), JSON.stringify([...seen])).toBeGreaterThan(0);
    const good = irisBatch(2);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(await post("/v2/models/iris/infer", { inputs: [good] }))).outputs, await reference("iris/1/model.onnx", [good]));
  });
});
