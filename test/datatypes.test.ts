import { f16round } from "@petamoriken/float16";
import { beforeAll, describe, expect, it } from "vitest";
import { dtypeInput, JSON_VALUES } from "./support/dtype-values";
import { expectMatchesReference, json, post, reference, setup, type JsonTensor } from "./support/helpers";

beforeAll(setup);

const inputs: JsonTensor[] = Object.entries(JSON_VALUES).map(([datatype, data]) => ({
  name: dtypeInput(datatype),
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
