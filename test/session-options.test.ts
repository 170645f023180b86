/** A model's onnxruntime session options (its config's `onnxruntime`): applied, shown, changed, refused when wrong. */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, expectMatchesReference, json, post, reference, setup, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch, sileroInputs } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";
const SILERO = "silero-vad/1/model.onnx";
const ALL = { graph_optimization_level: "basic", enable_mem_pattern: false, enable_cpu_mem_arena: false, disable_prepacking: true };

interface VersionView { version: number; isolate_state: string; session_options?: Record<string, unknown> }
const versions = async (model: string) => (await json<{ versions: VersionView[] }>(await adminCall("GET", `/models/${model}`))).versions;
const sessionsOf = async (model: string) =>
  (await json<{ sessions: { model: string; options?: string }[] }>(await adminCall("GET", "/isolate"))).sessions.filter((s) => s.model === model);

async function expectServes(model: string, fixture: string, inputs: JsonTensor[], outputs?: string[]) {
  const body = await json<{ outputs: JsonTensor[] }>(await post(`/v2/models/${model}/infer`, { inputs }));
  expectMatchesReference(body.outputs, await reference(fixture, inputs, outputs));
}

describe("onnxruntime session options in a model's config", () => {
  it("builds the model's sessions with them, answering as onnxruntime-node does, and shows them", async () => {
    await uploadFixture("so-iris", 1, IRIS);
    await json(await adminCall("PUT", "/models/so-iris/config", { onnxruntime: ALL }));
    for (const rows of [3, 7]) await expectServes("so-iris", IRIS, [irisBatch(rows)]);
    const [v1] = await versions("so-iris");
    expect(v1).toMatchObject({ version: 1, isolate_state: "ready", session_options: ALL });

    // A version published under the options is validated with them and kept: ready before any request.
    await uploadFixture("so-iris", 2, IRIS);
    expect((await versions("so-iris")).find((v) => v.version === 2)).toMatchObject({ isolate_state: "ready", session_options: ALL });
  });

  it("rebuilds the sessions when the options change, and leaves none built with the old ones", async () => {
    await uploadFixture("so-change", 1, IRIS);
    await json(await adminCall("PUT", "/models/so-change/config", { onnxruntime: { disable_prepacking: true } }));
    await expectServes("so-change", IRIS, [irisBatch(5)]);
    expect((await sessionsOf("so-change")).map((s) => s.options)).toEqual(['{"disable_prepacking":true}']);
    await json(await adminCall("PUT", "/models/so-change/config", {}));
    await expectServes("so-change", IRIS, [irisBatch(5)]);
    expect((await sessionsOf("so-change")).map((s) => s.options)).toEqual([undefined]);
    const [v1] = await versions("so-change");
    expect(v1!.isolate_state).toBe("ready");
    expect(v1!.session_options).toBeUndefined();
  });

  it("answers each of a pretrained model's requests with its own outputs under them", async () => {
    await uploadFixture("so-silero", 1, SILERO);
    await json(await adminCall("PUT", "/models/so-silero/config", { onnxruntime: { disable_prepacking: true, graph_optimization_level: "extended" } }));
    // Requests of one shape after another, with different values: each gets its own answer.
    for (const seed of [1, 2, 3]) await expectServes("so-silero", SILERO, sileroInputs(1, seed), ["output", "stateN"]);
  });

  it("refuses options onnxruntime does not have, or of the wrong type, with a 400", async () => {
    await uploadFixture("so-bad", 1, IRIS);
    // preallocate_outputs too: onnxruntime-web never copies results into a pre-allocated CPU tensor.
    for (const onnxruntime of [{ graph_optimization_level: "fast" }, { disable_prepacking: "yes" }, { intra_op_num_threads: 2 }, { preallocate_outputs: true }]) {
      const body = await json<{ error: string; code: string }>(await adminCall("PUT", "/models/so-bad/config", { onnxruntime }), 400);
      expect(body.error).toContain("onnxruntime");
    }
  });
});
