/** Sampled payloads go through the queue to R2 as NDJSON; unsampled ones don't. */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, eventually, json, post, setup, testEnv, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch, prng } from "./support/inputs";

beforeAll(setup);

async function linesUnder(prefix: string): Promise<Record<string, unknown>[]> {
  const listed = await testEnv.PAYLOAD_LOGS.list({ prefix });
  const texts = await Promise.all(listed.objects.map(async (o) => (await testEnv.PAYLOAD_LOGS.get(o.key))!.text()));
  return texts.flatMap((t) => t.trim().split("\n")).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("payload logging", () => {
  it("writes sampled requests and responses to R2 by model, version and day, and nothing for a model that samples none", async () => {
    await uploadFixture("logged", 1, "iris/1/model.onnx");
    await uploadFixture("unlogged", 1, "iris/1/model.onnx");
    await json(await adminCall("PUT", "/models/logged/config", { payload_logging: { sample_rate: 1 } }));
    const sent = [irisBatch(1), irisBatch(2), irisBatch(3)];
    for (const [i, input] of sent.entries()) await json(await post("/v2/models/logged/infer", { inputs: [input] }, { "X-Request-Id": `log-${i}` }));
    for (let i = 0; i < 3; i++) await json(await post("/v2/models/unlogged/infer", { inputs: [irisBatch(1)] }));

    const day = new Date().toISOString().slice(0, 10);
    const lines = await eventually(async () => {
      const l = await linesUnder(`logged/1/${day}/`);
      return l.length >= 3 ? l : undefined;
    }, "three logged payloads");
    expect(lines.map((l) => l.request_id).sort()).toEqual(["log-0", "log-1", "log-2"]);
    const first = lines.find((l) => l.request_id === "log-1")! as { model: string; version: number; tenant: string; inputs: JsonTensor[]; outputs: JsonTensor[] };
    expect(first).toMatchObject({ model: "logged", version: 1, tenant: "tests" });
    expect(first.inputs[0]!.data).toEqual(sent[1]!.data.map((v) => Math.fround(v as number)));
    expect(first.outputs.map((o) => o.name)).toEqual(["probabilities", "label"]);
    expect(await linesUnder("unlogged/")).toEqual([]);
  });

  it("keeps the shapes but leaves out the data of tensors too large for a queue message", async () => {
    await uploadFixture("logged-big", 1, "cnn/1/model.onnx");
    await json(await adminCall("PUT", "/models/logged-big/config", { payload_logging: { sample_rate: 1 } }));
    const rand = prng(5);
    const image = { name: "image", datatype: "FP32", shape: [1, 3, 224, 224], data: Array.from({ length: 3 * 224 * 224 }, () => rand()) };
    await json(await post("/v2/models/logged-big/infer", { inputs: [image] }));
    const [line] = await eventually(async () => {
      const l = await linesUnder("logged-big/");
      return l.length ? l : undefined;
    }, "the logged payload");
    expect(line).toMatchObject({ truncated: true, inputs: [{ name: "image", shape: [1, 3, 224, 224] }] });
    expect((line!.inputs as JsonTensor[])[0]!.data).toBeUndefined();
  });

  it("refuses a sample rate outside [0, 1]", async () => {
    await uploadFixture("logged-bad", 1, "iris/1/model.onnx");
    expect((await adminCall("PUT", "/models/logged-bad/config", { payload_logging: { sample_rate: 1.5 } })).status).toBe(400);
  });
});
