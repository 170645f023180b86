import { beforeAll, describe, expect, it } from "vitest";
import { call, json, post, reference, setup, type JsonTensor } from "./support/helpers";
import { irisBatch, sileroInputs } from "./support/inputs";

beforeAll(setup);

const rowsOf = (t: JsonTensor, width: number) =>
  Array.from({ length: t.shape[0]! }, (_, r) => t.data.slice(r * width, (r + 1) * width));

function expectClose(actual: unknown, expected: unknown): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual)).toBe(true);
    expect((actual as unknown[]).length).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e));
  } else if (typeof expected === "number") {
    expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(expected));
  } else expect(actual).toEqual(expected);
}

describe("TF Serving model status and metadata", () => {
  it("reports every version of a model", async () => {
    expect(await json(await call("/v1/models/iris"))).toEqual({
      model_version_status: [{ version: "1", state: "AVAILABLE", status: { error_code: "OK", error_message: "" } }],
    });
  });

  it("reports a version and a label after loading it", async () => {
    const expected = { model_version_status: [{ version: "1", state: "AVAILABLE", status: { error_code: "OK", error_message: "" } }] };
    expect(await json(await call("/v1/models/iris/versions/1"))).toEqual(expected);
    expect(await json(await call("/v1/models/iris/labels/stable"))).toEqual(expected);
  });

  it("builds signature_def from the ONNX inputs and outputs", async () => {
    const body = await json(await call("/v1/models/iris/metadata"));
    expect(body).toEqual({
      model_spec: { name: "iris", signature_name: "", version: "1" },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: {
              inputs: {
                features: { dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1", name: "" }, { size: "4", name: "" }], unknown_rank: false }, name: "features" },
              },
              outputs: {
                probabilities: { dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: "-1", name: "" }, { size: "3", name: "" }], unknown_rank: false }, name: "probabilities" },
                label: { dtype: "DT_INT64", tensor_shape: { dim: [{ size: "-1", name: "" }], unknown_rank: false }, name: "label" },
              },
              method_name: "tensorflow/serving/predict",
            },
          },
        },
      },
    });
  });
});

describe("TF Serving predict", () => {
  it("answers the row format with one prediction object per instance", async () => {
    const input = irisBatch(6);
    const expected = await reference("iris/1/model.onnx", [input]);
    const res = await post("/v1/models/iris:predict", { instances: rowsOf(input, 4) });
    const body = await json<{ predictions: { probabilities: number[]; label: number }[] }>(res);
    expect(res.headers.get("X-Model-Version")).toBe("1");
    expect(body.predictions).toHaveLength(6);
    expectClose(body.predictions.map((p) => p.probabilities), rowsOf(expected[0]!, 3));
    expect(body.predictions.map((p) => p.label)).toEqual(expected[1]!.data);
  });

  it("takes named instances", async () => {
    const input = irisBatch(2);
    const named = rowsOf(input, 4).map((features) => ({ features }));
    const unnamed = await json(await post("/v1/models/iris/versions/1:predict", { instances: rowsOf(input, 4) }));
    expect(await json(await post("/v1/models/iris/labels/stable:predict", { instances: named }))).toEqual(unnamed);
  });

  it("answers the columnar format with outputs keyed by name", async () => {
    const inputs = sileroInputs(2);
    const expected = await reference("silero-vad/1/model.onnx", inputs);
    const columnar = {
      input: rowsOf(inputs[0]!, 512),
      state: [0, 1].map(() => [0, 1].map(() => new Array(128).fill(0))),
      sr: 16000,
    };
    const body = await json<{ outputs: { output: number[][]; stateN: number[][][] } }>(
      await post("/v1/models/silero-vad:predict", { signature_name: "serving_default", inputs: columnar }),
    );
    expectClose(body.outputs.output, rowsOf(expected[0]!, 1));
    expectClose(body.outputs.stateN.flat(2), expected[1]!.data);
  });

  it("takes an unnamed columnar input for a single-input model", async () => {
    const input = irisBatch(2);
    const body = await json<{ outputs: { label: number[] } }>(await post("/v1/models/iris:predict", { inputs: rowsOf(input, 4) }));
    expect(body.outputs.label).toEqual((await reference("iris/1/model.onnx", [input]))[1]!.data);
  });

  it("decodes {\"b64\": ...} string inputs and encodes _bytes outputs", async () => {
    // The dtypes model echoes strings; its BYTES output is named y_bytes, so TF Serving encodes it as b64.
    const zeros = (dt: string) => (dt === "bool" ? [false] : [0]);
    const inputs: Record<string, unknown> = Object.fromEntries(
      ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "fp16", "fp32", "fp64"].map((t) => [`x_${t}`, zeros(t)]),
    );
    inputs.x_bytes = [{ b64: btoa("héllo".replace(/./gu, (c) => String.fromCharCode(...new TextEncoder().encode(c)))) }];
    const body = await json<{ outputs: Record<string, unknown> }>(await post("/v1/models/dtypes:predict", { inputs }));
    const out = body.outputs.y_bytes as { b64: string }[];
    const bytes = Uint8Array.from(atob(out[0]!.b64), (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe("héllo");
  });
});
