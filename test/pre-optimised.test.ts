/**
 * The cold-start lever the benchmark found: a model optimised once ahead of publishing
 * (scripts/optimize-model.ts) and served with graph optimisation disabled answers as the original
 * does, so the isolates that load it may skip that optimisation.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, expectMatchesReference, fixtureBytes, json, post, reference, setup, upload, type JsonTensor } from "./support/helpers";
import { irisBatch, sileroInputs } from "./support/inputs";

beforeAll(setup);

describe("a pre-optimised model with graph optimisation disabled", () => {
  it.each([
    ["silero-vad/1/model.onnx", sileroInputs(1)],
    ["iris/1/model.onnx", [irisBatch(20)]],
  ] as [string, JsonTensor[]][])("answers as the original %s does", async (key, inputs) => {
    const model = `preopt-${key.split("/")[0]}`;
    const bytes = await fixtureBytes(`optimised/${key}`);
    expect(bytes.byteLength).not.toBe((await fixtureBytes(key)).byteLength); // rewritten, not a copy
    await json(await upload(model, 1, bytes), 201);
    await json(await adminCall("PUT", `/models/${model}/config`, { onnxruntime: { graph_optimization_level: "disabled" } }));
    const body = await json<{ outputs: JsonTensor[] }>(await post(`/v2/models/${model}/infer`, { inputs }));
    expectMatchesReference(body.outputs, await reference(key, inputs));
    const described = await json<{ versions: { options?: unknown; load?: { create_ms: number } }[] }>(await adminCall("GET", `/models/${model}`));
    expect(described.versions[0]!.load).toBeDefined();
  });
});
