import { beforeAll, describe, expect, it } from "vitest";
import { call, expectMatchesReference, json, post, reference, setup, type JsonTensor } from "./support/helpers";
import { irisBatch, sileroInputs } from "./support/inputs";

beforeAll(setup);

interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: JsonTensor[];
}

describe("KServe V2 health and server metadata", () => {
  it("answers live and ready", async () => {
    expect(await json(await call("/v2/health/live"))).toEqual({ live: true });
    expect(await json(await call("/v2/health/ready"))).toEqual({ ready: true });
  });

  it("describes the server", async () => {
    const body = await json(await call("/v2"));
    expect(body.name).toBe("edge-inference");
    expect(typeof body.version).toBe("string");
    expect(Array.isArray(body.extensions)).toBe(true);
  });
});

describe("KServe V2 model metadata", () => {
  it("reads names, datatypes and shapes from the model, -1 for dynamic dimensions", async () => {
    const body = await json(await call("/v2/models/iris"));
    expect(body).toEqual({
      name: "iris",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
        { name: "label", datatype: "INT64", shape: [-1] },
      ],
    });
  });

  it("describes a pretrained model with several inputs, a scalar and dynamic dimensions", async () => {
    const body = await json(await call("/v2/models/silero-vad/versions/1"));
    expect(body.inputs).toEqual([
      { name: "input", datatype: "FP32", shape: [-1, -1] },
      { name: "state", datatype: "FP32", shape: [2, -1, 128] },
      { name: "sr", datatype: "INT64", shape: [] },
    ]);
    expect((body.outputs as { name: string }[]).map((o) => o.name)).toEqual(["output", "stateN"]);
  });

  it("reports a model ready once it is loaded", async () => {
    expect(await json(await call("/v2/models/iris/ready"))).toEqual({ name: "iris", ready: true });
    expect(await json(await call("/v2/models/iris/versions/1/ready"))).toEqual({ name: "iris", ready: true });
  });
});

describe("KServe V2 inference", () => {
  it("classifies the Iris data set as onnxruntime-node does", async () => {
    const input = irisBatch();
    const body = await json<InferResponse>(await post("/v2/models/iris/infer", { id: "req-42", inputs: [input] }));
    expect(body.model_name).toBe("iris");
    expect(body.model_version).toBe("1");
    expect(body.id).toBe("req-42");
    expectMatchesReference(body.outputs, await reference("iris/1/model.onnx", [input]));
  });

  it("accepts nested data as well as flat", async () => {
    const input = irisBatch(3);
    const rows = [0, 1, 2].map((r) => input.data.slice(r * 4, r * 4 + 4));
    const flat = await json<InferResponse>(await post("/v2/models/iris/infer", { inputs: [input] }));
    const nested = await json<InferResponse>(await post("/v2/models/iris/infer", { inputs: [{ ...input, data: rows }] }));
    expect(nested.outputs).toEqual(flat.outputs);
  });

  it("returns only the outputs requested", async () => {
    const body = await json<InferResponse>(
      await post("/v2/models/iris/versions/1/infer", { inputs: [irisBatch(5)], outputs: [{ name: "label" }] }),
    );
    expect(body.outputs.map((o) => o.name)).toEqual(["label"]);
    expectMatchesReference(body.outputs, await reference("iris/1/model.onnx", [irisBatch(5)], ["label"]));
  });

  it("runs Silero VAD (dynamic shapes, INT64 scalar, two outputs) as onnxruntime-node does", async () => {
    for (const batch of [1, 3]) {
      const inputs = sileroInputs(batch);
      const body = await json<InferResponse>(await post("/v2/models/silero-vad/infer", { inputs }));
      expect(body.outputs.map((o) => o.shape)).toEqual([[batch, 1], [2, batch, 128]]);
      expectMatchesReference(body.outputs, await reference("silero-vad/1/model.onnx", inputs));
    }
  });

  it("names the version that answered in a header", async () => {
    const res = await post("/v2/models/iris/infer", { inputs: [irisBatch(1)] });
    expect(res.headers.get("X-Model-Version")).toBe("1");
  });
});
