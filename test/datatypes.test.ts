import { f16round } from "@petamoriken/float16";
import { beforeAll, describe, expect, it } from "vitest";
import { expectMatchesReference, json, post, reference, setup, type JsonTensor } from "./support/helpers";

beforeAll(setup);

/** Three values per datatype, including each type's extremes. */
const VALUES: Record<string, unknown[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 255, 7],
  UINT16: [0, 65535, 300],
  UINT32: [0, 4294967295, 70000],
  UINT64: [0, Number.MAX_SAFE_INTEGER, 5],
  INT8: [-128, 127, 0],
  INT16: [-32768, 32767, -1],
  INT32: [-2147483648, 2147483647, 42],
  INT64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -1],
  FP16: [0.5, -65504, 0.0001],
  FP32: [1.5, -3.4028234663852886e38, 1e-7],
  FP64: [Math.PI, -1.7976931348623157e308, 5e-324],
  BYTES: ["plain", "héllo wörld ✓", ""],
};

const inputs: JsonTensor[] = Object.entries(VALUES).map(([datatype, data]) => ({
  name: `x_${datatype === "FP16" ? "fp16" : datatype === "FP32" ? "fp32" : datatype === "FP64" ? "fp64" : datatype.toLowerCase()}`,
  datatype,
  shape: [3],
  data,
}));

describe("every datatype round-trips through KServe JSON and onnxruntime-web", () => {
  it("returns what onnxruntime-node returns for an identity on each type", async () => {
    const body = await json<{ outputs: JsonTensor[] }>(await post("/v2/models/dtypes/infer", { inputs }));
    expectMatchesReference(body.outputs, await reference("dtypes/1/model.onnx", inputs));
  });

  it("gives back exactly the values sent (FP16 and FP32 rounded to their precision)", async () => {
    const body = await json<{ outputs: JsonTensor[] }>(await post("/v2/models/dtypes/infer", { inputs }));
    for (const out of body.outputs) {
      const sent = inputs.find((i) => i.name === out.name.replace(/^y_/, "x_"))!;
      expect(out.datatype).toBe(sent.datatype);
      expect(out.shape).toEqual([3]);
      if (out.datatype === "FP16") expect(out.data).toEqual((sent.data as number[]).map(f16round));
      else if (out.datatype === "FP32") expect(out.data).toEqual((sent.data as number[]).map(Math.fround));
      else expect(out.data, out.name).toEqual(sent.data);
    }
  });
});
