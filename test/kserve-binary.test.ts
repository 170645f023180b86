/** The KServe/Triton binary tensor data extension, end to end against real models. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectMatchesReference, json, post, reference, setup, streamed, type JsonTensor } from "./support/helpers";
import { binaryBody, fromBytes, readBinaryResponse, toBytes } from "./support/binary-wire";
import { irisBatch, prng, sileroInputs } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";

function postBinary(path: string, body: BodyInit, headerLength: number | string, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength), ...headers },
    body,
  });
}

async function expect400(res: Response, fragment: string) {
  const body = await json<{ error: string }>(res, 400);
  expect(body.error).toContain(fragment);
}

/** A tensor as JSON, its data read back from binary. */
const decoded = (o: { name: string; datatype: string; shape: number[] }, bytes: Uint8Array): JsonTensor => ({ ...o, data: fromBytes(o.datatype, bytes) });

describe("binary tensor data", () => {
  it("takes binary inputs and returns the outputs asked for as binary, the rest as JSON", async () => {
    const input = irisBatch(20);
    const { body, headerLength } = binaryBody(
      {
        inputs: [{ name: "features", datatype: "FP32", shape: input.shape, parameters: { binary_data_size: 20 * 4 * 4 } }],
        outputs: [{ name: "probabilities", parameters: { binary_data: true } }, { name: "label" }],
      },
      [toBytes("FP32", input.data)],
    );
    const res = await postBinary("/v2/models/iris/infer", body, headerLength);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("X-Model-Version")).toBe("1");
    const { json: head, parts } = await readBinaryResponse(res);
    expect(head.outputs[0]).toMatchObject({ name: "probabilities", datatype: "FP32", shape: [20, 3], parameters: { binary_data_size: 240 } });
    expect(head.outputs[0]!.data).toBeUndefined();
    const got = [decoded(head.outputs[0]!, parts.get("probabilities")!), head.outputs[1] as JsonTensor];
    expectMatchesReference(got, await reference(IRIS, [input]));
  });

  it("reads a body in many chunks, or streamed without a declared length, to the same answers", async () => {
    const input = irisBatch(7);
    // A header of odd length, so the tensor bytes land unaligned in the body as sent.
    const { body, headerLength } = binaryBody(
      { id: "x", parameters: { binary_data_output: true }, inputs: [{ name: "features", datatype: "FP32", shape: input.shape, parameters: { binary_data_size: 7 * 16 } }] },
      [toBytes("FP32", input.data)],
    );
    const want = await reference(IRIS, [input]);
    const sent: { body: ReadableStream<Uint8Array>; headers: Record<string, string> }[] = [
      { body: streamed(body, 5), headers: { "content-length": String(body.byteLength) } },
      { body: streamed(body, 64), headers: {} },
    ];
    for (const init of sent) {
      const res = await postBinary("/v2/models/iris/infer", init.body, headerLength, init.headers);
      const { json: head, parts } = await readBinaryResponse(res);
      expectMatchesReference(head.outputs.map((o) => decoded(o, parts.get(o.name)!)), want);
    }
  });

  it("returns every output as binary with binary_data_output, INT64 included", async () => {
    const input = irisBatch(5);
    const { body, headerLength } = binaryBody(
      { parameters: { binary_data_output: true }, inputs: [{ name: "features", datatype: "FP32", shape: input.shape, parameters: { binary_data_size: 80 } }] },
      [toBytes("FP32", input.data)],
    );
    const { json: head, parts } = await readBinaryResponse(await postBinary("/v2/models/iris/infer", body, headerLength));
    const got = head.outputs.map((o) => decoded(o, parts.get(o.name)!));
    expectMatchesReference(got, await reference(IRIS, [input]));
  });

  it("mixes JSON and binary inputs on a pretrained model", async () => {
    const [audio, state, sr] = sileroInputs(2);
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: "input", datatype: "FP32", shape: audio!.shape, parameters: { binary_data_size: audio!.data.length * 4 } },
          state,
          { name: "sr", datatype: "INT64", shape: [], parameters: { binary_data_size: 8 } },
        ],
        outputs: [{ name: "output", parameters: { binary_data: true } }, { name: "stateN", parameters: { binary_data: true } }],
      },
      [toBytes("FP32", audio!.data), toBytes("INT64", sr!.data)],
    );
    const { json: head, parts } = await readBinaryResponse(await postBinary("/v2/models/silero-vad/infer", body, headerLength));
    const got = head.outputs.map((o) => decoded(o, parts.get(o.name)!));
    expectMatchesReference(got, await reference("silero-vad/1/model.onnx", [audio!, state!, sr!], ["output", "stateN"]));
  });

  it("round-trips FP16, BOOL, BYTES and every other datatype as binary", async () => {
    const values: Record<string, unknown[]> = {
      bool: [true, false, true], uint8: [0, 255, 7], uint16: [0, 65535, 3], uint32: [0, 4294967295, 9], uint64: [0, 2 ** 53 - 1, 5],
      int8: [-128, 127, 0], int16: [-32768, 32767, -1], int32: [-2147483648, 2147483647, 42], int64: [-(2 ** 53 - 1), 2 ** 53 - 1, -1],
      fp16: [0.5, -65504, 0.25], fp32: [1.5, -3.5, 1e-7], fp64: [Math.PI, -1e300, 5e-324], bytes: ["plain", "héllo wörld ✓", ""],
    };
    const dt = (n: string) => ({ fp16: "FP16", fp32: "FP32", fp64: "FP64" })[n] ?? n.toUpperCase();
    const parts = Object.entries(values).map(([n, v]) => toBytes(dt(n), v));
    const { body, headerLength } = binaryBody(
      {
        parameters: { binary_data_output: true },
        inputs: Object.keys(values).map((n, i) => ({ name: `x_${n}`, datatype: dt(n), shape: [3], parameters: { binary_data_size: parts[i]!.length } })),
      },
      parts,
    );
    const { json: head, parts: out } = await readBinaryResponse(await postBinary("/v2/models/dtypes/infer", body, headerLength));
    const asInputs: JsonTensor[] = Object.entries(values).map(([n, v]) => ({ name: `x_${n}`, datatype: dt(n), shape: [3], data: v }));
    const expected = await reference("dtypes/1/model.onnx", asInputs);
    const got = head.outputs.map((o) => decoded(o, out.get(o.name)!));
    expectMatchesReference(got, expected);
    // The bytes come back exactly as sent (an identity).
    for (const [i, n] of Object.keys(values).entries()) expect(out.get(`y_${n}`)).toEqual(parts[i]);
  });

  it("takes a raw body (header length 0) for a single-input model, working out the batch size", async () => {
    const input = irisBatch(7);
    const res = await postBinary("/v2/models/iris/infer", toBytes("FP32", input.data), 0);
    const body = await json<{ outputs: JsonTensor[] }>(res);
    expect(body.outputs[0]!.shape).toEqual([7, 3]);
    expectMatchesReference(body.outputs, await reference(IRIS, [input]));
  });

  it("refuses wrong sizes, short bodies and bytes that do not divide into the datatype with 400s", async () => {
    const four = toBytes("FP32", [1, 2, 3, 4]);
    const head = (size: number, extra: object = {}) => ({ inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], parameters: { binary_data_size: size }, ...extra }] });
    let b = binaryBody(head(12), [four.subarray(0, 12)]);
    await expect400(await postBinary("/v2/models/iris/infer", b.body, b.headerLength), "needs 16");
    b = binaryBody(head(16), [four.subarray(0, 10)]);
    await expect400(await postBinary("/v2/models/iris/infer", b.body, b.headerLength), "only 10 bytes");
    b = binaryBody(head(16), [four, new Uint8Array(3)]);
    await expect400(await postBinary("/v2/models/iris/infer", b.body, b.headerLength), "add up to 16");
    b = binaryBody(head(16, { data: [1, 2, 3, 4] }), [four]);
    await expect400(await postBinary("/v2/models/iris/infer", b.body, b.headerLength), "both data and binary_data_size");
    b = binaryBody(head(-4), [four]);
    await expect400(await postBinary("/v2/models/iris/infer", b.body, b.headerLength), "binary_data_size");
    b = binaryBody(head(16), [four]);
    await expect400(await postBinary("/v2/models/iris/infer", b.body, b.body.length + 5), "only");
    await expect400(await postBinary("/v2/models/iris/infer", b.body, "12abc"), "non-negative integer");
    await expect400(await postBinary("/v2/models/iris/infer", b.body, 5), "not valid JSON");
    await expect400(await postBinary("/v2/models/iris/infer", four.subarray(0, 7), 0), "do not divide");
    await expect400(await postBinary("/v2/models/iris/infer", four.subarray(0, 12), 0), "whole number");
    await expect400(await postBinary("/v2/models/silero-vad/infer", four, 0), "exactly one input");
    const bools = binaryBody({ inputs: [{ name: "x_bool", datatype: "BOOL", shape: [1], parameters: { binary_data_size: 1 } }] }, [new Uint8Array([2])]);
    await expect400(await postBinary("/v2/models/dtypes/infer", bools.body, bools.headerLength), "use 0 or 1");
    const strings = binaryBody({ inputs: [{ name: "x_bytes", datatype: "BYTES", shape: [2], parameters: { binary_data_size: 9 } }] }, [toBytes("BYTES", ["abcde"])]);
    await expect400(await postBinary("/v2/models/dtypes/infer", strings.body, strings.headerLength), "BYTES element 1");
    // More BYTES elements than an array holds (found by test/codec-properties.test.ts: it was a 500).
    const many = binaryBody({ inputs: [{ name: "x_bytes", datatype: "BYTES", shape: [2 ** 32], parameters: { binary_data_size: 0 } }] }, []);
    await expect400(await postBinary("/v2/models/dtypes/infer", many.body, many.headerLength), "needs at least 17179869184 bytes");
    const flag = binaryBody({ parameters: { binary_data_output: "yes" }, inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] }, []);
    await expect400(await postBinary("/v2/models/iris/infer", flag.body, flag.headerLength), "binary_data_output");
  });

  it("gives the same answers as JSON for a 1×3×224×224 image, at under a third of the bytes", async () => {
    const rand = prng(224);
    const image: JsonTensor = { name: "image", datatype: "FP32", shape: [1, 3, 224, 224], data: Array.from({ length: 3 * 224 * 224 }, () => Math.fround(rand() * 2 - 1)) };
    const expected = await reference("cnn/1/model.onnx", [image]);
    const asJson = JSON.stringify({ inputs: [image] });
    const viaJson = await json<{ outputs: JsonTensor[] }>(await post("/v2/models/cnn/infer", JSON.parse(asJson)));
    expectMatchesReference(viaJson.outputs, expected);
    const { body, headerLength } = binaryBody(
      { parameters: { binary_data_output: true }, inputs: [{ name: "image", datatype: "FP32", shape: image.shape, parameters: { binary_data_size: 3 * 224 * 224 * 4 } }] },
      [toBytes("FP32", image.data)],
    );
    expect(body.length * 3).toBeLessThan(asJson.length);
    const { json: head, parts } = await readBinaryResponse(await postBinary("/v2/models/cnn/infer", body, headerLength));
    expectMatchesReference(head.outputs.map((o) => decoded(o, parts.get(o.name)!)), expected);
    // The header padded to every length modulo 8: the image's bytes land at every alignment.
    for (let pad = 1; pad < 8; pad++) {
      const padded = binaryBody(
        { parameters: { binary_data_output: true }, inputs: [{ name: "image", datatype: "FP32", shape: image.shape, parameters: { binary_data_size: 3 * 224 * 224 * 4 } }] },
        [toBytes("FP32", image.data)],
        pad,
      );
      const answer = await readBinaryResponse(await postBinary("/v2/models/cnn/infer", padded.body, padded.headerLength));
      expectMatchesReference(answer.json.outputs.map((o) => decoded(o, answer.parts.get(o.name)!)), expected);
    }
  });

  it("says so in the server metadata", async () => {
    expect((await json<{ extensions: string[] }>(await call("/v2"))).extensions).toContain("binary_tensor_data");
  });
});
