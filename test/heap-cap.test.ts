/**
 * onnxruntime's heap cap (ORT_HEAP_MAX_BYTES), over the real Worker: a run whose memory depends on
 * its input values (ConstantOfShape asked for 2^28 floats) fails alone with a 507 while another
 * tenant's prediction succeeds, the heap stays under the cap, and the same model and others still
 * answer correctly afterwards; a model whose first run needs more than the cap is not published.
 * A FRESH file (vitest.config.ts), run last of them: only the small runs of the FRESH files before it touched the heap.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, call, expectMatchesReference, fixtureBytes, json, reference, setup, tenantKey, upload, uploadFixture, type JsonTensor } from "./support/helpers";

const BOMB = "heap-bomb";
const CAP = 96 * 1024 * 1024; // wrangler.toml's ORT_HEAP_MAX_BYTES
let attacker = "";
let victim = "";

beforeAll(async () => {
  await setup();
  const published = await uploadFixture(BOMB, 1, "built/constant-of-shape.onnx");
  expect(published.first_run).toEqual({ ran: true });
  attacker = await tenantKey("heap-attacker", { requests_per_minute: 1_000_000, burst: 1_000_000 });
  victim = await tenantKey("heap-victim", { requests_per_minute: 1_000_000, burst: 1_000_000 });
});

const infer = (key: string, model: string, inputs: JsonTensor[]) =>
  call(`/v2/models/${model}/infer`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ inputs }) });

const shape = (rows: number, columns: number): JsonTensor => ({ name: "shape", datatype: "INT64", shape: [2], data: [rows, columns] });
const irisRows: JsonTensor = { name: "features", datatype: "FP32", shape: [2, 4], data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] };

async function expectIrisAnswers(): Promise<void> {
  const body = await json<{ outputs: JsonTensor[] }>(await infer(victim, "iris", [irisRows]));
  expectMatchesReference(body.outputs, await reference("iris/1/model.onnx", [irisRows]));
}

async function heap(): Promise<{ wasm_heap_bytes: number; wasm_heap_max_bytes: number }> {
  return json(await adminCall("GET", "/isolate"));
}

describe("onnxruntime's heap cap", () => {
  it("refuses a 2^28-float run with a 507 while another tenant's prediction succeeds", async () => {
    await expectIrisAnswers(); // iris loaded first: a session the refused run must leave intact
    const [bomb, other] = await Promise.all([infer(attacker, BOMB, [shape(1, 2 ** 28)]), infer(victim, "iris", [irisRows])]);
    const error = await json<{ error: string }>(bomb, 507);
    expect(error.error).toContain("ORT_HEAP_MAX_BYTES");
    expect(error.error).toContain(`model '${BOMB}' version 1`);
    expectMatchesReference((await json<{ outputs: JsonTensor[] }>(other)).outputs, await reference("iris/1/model.onnx", [irisRows]));

    const after = await heap();
    expect(after.wasm_heap_max_bytes).toBe(CAP);
    expect(after.wasm_heap_bytes).toBeLessThanOrEqual(CAP);
  });

  it("leaves the refused model and the others answering correctly", async () => {
    const small = [shape(2, 3)];
    const body = await json<{ outputs: JsonTensor[] }>(await infer(attacker, BOMB, small));
    expectMatchesReference(body.outputs, await reference("built/constant-of-shape.onnx", small));
    await expectIrisAnswers();
    // A second refusal changes nothing either: the heap cannot pass the cap however often it is pushed.
    expect((await infer(attacker, BOMB, [shape(2 ** 14, 2 ** 14)])).status).toBe(507);
    await expectIrisAnswers();
    expect((await heap()).wasm_heap_bytes).toBeLessThanOrEqual(CAP);
  });

  it("does not publish a model whose first run needs more than the cap, and stores nothing of it", async () => {
    const res = await upload("expand-bomb", 1, await fixtureBytes("built/expand-bomb.onnx"));
    const error = await json<{ error: string }>(res, 507);
    expect(error.error).toContain("was not published");
    expect(error.error).toContain("ORT_HEAP_MAX_BYTES");
    expect((await adminCall("GET", "/models/expand-bomb")).status).toBe(404);
    await expectIrisAnswers();
  });

  it("publishes a model that fails on zeros for another reason, and says why", async () => {
    // Silero VAD takes only sample rates of 8000 and 16000: a run with sr 0 fails, the model is fine.
    const published = await uploadFixture("probe-silero", 1, "silero-vad/1/model.onnx");
    expect(published.created).toBe(true);
    expect(published.first_run).toMatchObject({ ran: false, error: expect.stringContaining("OrtRun") });
  });
});
