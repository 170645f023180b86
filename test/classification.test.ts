/** Triton's classification extension over KServe V2: top classes of an output, JSON and binary, against onnxruntime-node. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, json, post, reference, setup, type JsonTensor } from "./support/helpers";
import { binaryBody, fromBytes, readBinaryResponse, toBytes } from "./support/binary-wire";
import { irisBatch } from "./support/inputs";
import { BINARY_VALUES, dtypeInput, referenceData } from "./support/dtype-values";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";

/** One row's classes, highest first, ties by lower index: sorted here, from the reference's values. */
function expectedOrder(row: readonly unknown[]): number[] {
  const big = (v: unknown) => (typeof v === "string" ? BigInt(v) : v) as number | bigint;
  return row.map((_, i) => i).sort((a, b) => {
    const va = big(row[a]);
    const vb = big(row[b]);
    return vb > va ? 1 : vb < va ? -1 : a - b;
  });
}

/** Splits "<score>:<index>[:<label>]". */
function parts(entry: string): { score: string; index: number; label?: string } {
  const [score, index, ...label] = entry.split(":");
  return { score: score!, index: Number(index), ...(label.length ? { label: label.join(":") } : {}) };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b);

/**
 * Checks a classification of float scores against the reference output: each row's entries are
 * its k highest classes in order, each score the reference's within tolerance (WASM and native
 * kernels round differently, so only near-equal scores may trade places).
 */
function expectTopK(entries: readonly string[], ref: JsonTensor, k: number, labels?: readonly string[]): void {
  const classes = ref.shape[1]!;
  const rows = ref.shape[0]!;
  expect(entries.length).toBe(rows * k);
  for (let r = 0; r < rows; r++) {
    const row = ref.data.slice(r * classes, (r + 1) * classes) as number[];
    const order = expectedOrder(row);
    for (let j = 0; j < k; j++) {
      const got = parts(entries[r * k + j]!);
      const want = row[order[j]!]!;
      expect(close(Number(got.score), want), `row ${r} rank ${j}: ${entries[r * k + j]} vs ${want}`).toBe(true);
      expect(close(row[got.index]!, want), `row ${r} rank ${j}: class ${got.index} is not the ${j + 1}th highest`).toBe(true);
      if (labels) expect(got.label).toBe(labels[got.index]);
      else expect(got.label).toBeUndefined();
    }
  }
}

describe("classification (Triton's extension)", () => {
  it("is listed in the server's extensions", async () => {
    expect((await json<{ extensions: string[] }>(await call("/v2"))).extensions).toContain("classification");
  });

  it("answers an output as its top k classes, a BYTES tensor [batch, k], highest first", async () => {
    const input = irisBatch(150);
    for (const k of [1, 2, 3]) {
      const body = await json<{ outputs: JsonTensor[] }>(
        await post("/v2/models/iris/infer", { inputs: [input], outputs: [{ name: "probabilities", parameters: { classification: k } }, { name: "label" }] }),
      );
      const [probabilities, label] = body.outputs;
      expect(probabilities).toMatchObject({ name: "probabilities", datatype: "BYTES", shape: [150, k] });
      const [ref, refLabel] = await reference(IRIS, [input], ["probabilities", "label"]);
      expectTopK(probabilities!.data as string[], ref!, k);
      // The other output is untouched, and the top class is the model's own label.
      expect(label).toMatchObject({ name: "label", datatype: "INT64", shape: [150] });
      expect(label!.data.map(String)).toEqual(refLabel!.data.map(String));
      if (k === 1) expect((probabilities!.data as string[]).map((e) => String(parts(e).index))).toEqual(refLabel!.data.map(String));
    }
  });

  it("answers the BYTES tensor as binary data when asked", async () => {
    const input = irisBatch(40);
    const { body, headerLength } = binaryBody(
      {
        inputs: [{ name: "features", datatype: "FP32", shape: input.shape, parameters: { binary_data_size: 40 * 16 } }],
        outputs: [{ name: "probabilities", parameters: { classification: 2, binary_data: true } }],
      },
      [toBytes("FP32", input.data)],
    );
    const res = await call("/v2/models/iris/infer", {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) },
      body,
    });
    expect(res.status).toBe(200);
    const { json: head, parts: binaries } = await readBinaryResponse(res);
    expect(head.outputs[0]).toMatchObject({ name: "probabilities", datatype: "BYTES", shape: [40, 2] });
    const entries = fromBytes("BYTES", binaries.get("probabilities")!) as string[];
    const [ref] = await reference(IRIS, [input], ["probabilities"]);
    expectTopK(entries, ref!, 2);
  });

  it("ranks integer and half-precision outputs by their own type, 64-bit integers exactly", async () => {
    for (const datatype of ["INT64", "UINT64", "INT8", "FP16", "FP64", "UINT32"]) {
      const values = BINARY_VALUES[datatype]!;
      const input = { name: dtypeInput(datatype), datatype, shape: [values.length], data: referenceData(values) };
      const output = `y_${datatype.toLowerCase()}`;
      // The dtypes model needs every input: the others go as JSON, this one as binary (64-bit integers whole).
      const binaryInput = { name: input.name, datatype, shape: input.shape, parameters: { binary_data_size: toBytes(datatype, values).length } };
      const { body, headerLength } = binaryBody(
        { inputs: [binaryInput, ...otherInputs(datatype)], outputs: [{ name: output, parameters: { classification: 3 } }] },
        [toBytes(datatype, values)],
      );
      const res = await call("/v2/models/dtypes/infer", {
        method: "POST",
        headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) },
        body,
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      // No output was asked for as binary: the answer is plain JSON.
      const head = JSON.parse(text) as { outputs: JsonTensor[] };
      const got = head.outputs[0]!;
      expect(got).toMatchObject({ name: output, datatype: "BYTES", shape: [3] });
      const [ref] = await reference("dtypes/1/model.onnx", [...otherInputs(datatype), input as JsonTensor], [output]);
      const order = expectedOrder(ref!.data);
      const entries = (got.data as string[]).map(parts);
      expect(entries.map((e) => e.index), datatype).toEqual(order);
      entries.forEach((e, j) => {
        const want = ref!.data[order[j]!];
        if (datatype === "FP64") expect(Number(e.score), datatype).toBe(want);
        // Half and single precision: the shortest text that reads back as the same float32.
        else if (datatype === "FP16") expect(Math.fround(Number(e.score)), datatype).toBe(Math.fround(want as number));
        else expect(e.score, datatype).toBe(String(want));
      });
    }
  });

  it("refuses a count that is not a positive integer, or more than the output's classes, with a 400", async () => {
    const input = irisBatch(2);
    const ask = (classification: unknown, name = "probabilities") => post("/v2/models/iris/infer", { inputs: [input], outputs: [{ name, parameters: { classification } }] });
    for (const bad of [0, -1, 2.5, "2", true, null]) {
      const body = await json<{ error: string }>(await ask(bad), 400);
      expect(body.error).toContain("output 'probabilities' parameter 'classification' must be a positive integer");
    }
    const tooMany = await json<{ error: string }>(await ask(4), 400);
    expect(tooMany.error).toContain("asks for 4 classes, but the output has 3 per row");
  });
});

/** Every dtypes input but `datatype`'s, as JSON tensors of three values. */
function otherInputs(datatype: string): JsonTensor[] {
  return Object.keys(BINARY_VALUES)
    .filter((d) => d !== datatype)
    .map((d) => ({ name: dtypeInput(d), datatype: d, shape: [3], data: referenceData(JSON_VALUES_OF(d)) }));
}

const JSON_VALUES_OF = (d: string) => (d === "UINT64" ? [0, 5, 7] : d === "INT64" ? [-1, 0, 1] : BINARY_VALUES[d]!);
