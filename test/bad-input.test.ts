import { beforeAll, describe, expect, it } from "vitest";
import { call, json, post, publish, setup, testEnv } from "./support/helpers";
import { binaryBody } from "./support/binary-wire";
import { irisBatch, sileroInputs } from "./support/inputs";

beforeAll(setup);

/** Expects the protocol's error shape, `{"error": "..."}` and nothing else, with `status`. */
async function expectError(res: Response, status: number, ...mentions: (string | RegExp)[]): Promise<string> {
  const body = await json<{ error: string }>(res, status);
  expect(Object.keys(body)).toEqual(["error"]);
  for (const m of mentions) expect(body.error).toMatch(m);
  return body.error;
}

const iris = (inputs: unknown) => post("/v2/models/iris/infer", { inputs });

describe("KServe V2 rejects bad requests with 400 naming the problem", () => {
  it("malformed or empty JSON", async () => {
    await expectError(await call("/v2/models/iris/infer", { method: "POST", body: "{\"inputs\": [" }), 400, "not valid JSON");
    await expectError(await call("/v2/models/iris/infer", { method: "POST", body: "" }), 400, "empty");
  });

  it("a request without inputs, or with a bad field", async () => {
    await expectError(await post("/v2/models/iris/infer", {}), 400, "'inputs'");
    await expectError(await iris([{ ...irisBatch(1), datatype: "FLOAT" }]), 400, "'inputs[0].datatype'");
    await expectError(await iris([{ ...irisBatch(1), shape: [1, -4] }]), 400, "'inputs[0].shape[1]'");
    await expectError(await iris([{ name: "features", datatype: "FP32", shape: [1, 4] }]), 400, "data is required");
  });

  it("wrong, missing or repeated input names", async () => {
    await expectError(await iris([{ ...irisBatch(1), name: "x" }]), 400, "unknown input 'x'", "'features'");
    const [, state, sr] = sileroInputs();
    await expectError(await post("/v2/models/silero-vad/infer", { inputs: [state, sr] }), 400, "missing input 'input'");
    await expectError(await iris([irisBatch(1), irisBatch(1)]), 400, "more than once");
  });

  it("data that does not fill the shape", async () => {
    await expectError(await iris([{ ...irisBatch(2), shape: [3, 4] }]), 400, "'features'", "12 elements", "8");
  });

  it("a datatype or shape the model does not take", async () => {
    await expectError(await iris([{ ...irisBatch(1), datatype: "FP64" }]), 400, "FP64", "expects FP32");
    await expectError(await iris([{ ...irisBatch(2), shape: [1, 8] }]), 400, "[1,8]", "[-1,4]");
  });

  it("values of the wrong type or out of range for the datatype", async () => {
    await expectError(await iris([{ name: "features", datatype: "FP32", shape: [1, 4], data: [1, 2, "3", 4] }]), 400, "element 2", "not a number");
    await expectError(await iris([{ name: "features", datatype: "FP32", shape: [1, 4], data: [1, 2, 1e39, 4] }]), 400, "out of range");
    const dtypes = (name: string, datatype: string, data: unknown[]) =>
      post("/v2/models/dtypes/infer", { inputs: [{ name, datatype, shape: [data.length], data }] });
    await expectError(await dtypes("x_int8", "INT8", [1, 300]), 400, "element 1", "out of range");
    await expectError(await dtypes("x_uint8", "UINT8", [-1]), 400, "out of range");
    await expectError(await dtypes("x_int32", "INT32", [1.5]), 400, "not an integer");
    await expectError(await dtypes("x_int64", "INT64", [2 ** 60]), 400, "2^53");
    await expectError(await dtypes("x_fp16", "FP16", [70000]), 400, "out of range");
    await expectError(await dtypes("x_bool", "BOOL", [1]), 400, "true or false");
    await expectError(await dtypes("x_bytes", "BYTES", [5]), 400, "not a string");
  });

  it("an output the model does not have", async () => {
    await expectError(await post("/v2/models/iris/infer", { inputs: [irisBatch(1)], outputs: [{ name: "nope" }] }), 400, "unknown output 'nope'");
  });

  it("inputs the model cannot run together, with ORT's reason", async () => {
    const [input, , sr] = sileroInputs(2);
    const state = { name: "state", datatype: "FP32", shape: [2, 1, 128], data: new Array(256).fill(0) };
    await expectError(await post("/v2/models/silero-vad/infer", { inputs: [input, state, sr] }), 400, "could not run on this input");
  });

  it("a body in a coding other than gzip or deflate is 415 naming those accepted, in either protocol (test/content-coding.test.ts has the rest)", async () => {
    const body = JSON.stringify({ inputs: [irisBatch(2)] });
    const headers = { "content-type": "application/json", "content-encoding": "br" };
    let res = await call("/v2/models/iris/infer", { method: "POST", body, headers });
    expect(res.headers.get("Accept-Encoding")).toBe("gzip, deflate, identity");
    await expectError(res, 415, "Content-Encoding 'br'", "gzip, deflate or uncompressed");
    res = await call("/v1/models/iris:predict", { method: "POST", body, headers: { ...headers, "content-encoding": "deflate, gzip" } });
    await expectError(res, 415, "'deflate, gzip'");
    // identity is the body as sent.
    await json(await call("/v2/models/iris/infer", { method: "POST", body, headers: { ...headers, "content-encoding": "identity" } }), 200);
  });

  it("a body over the size limit is 413", async () => {
    const big = JSON.stringify({ inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }], pad: "x".repeat(5 * 1024 * 1024) });
    await expectError(await call("/v2/models/iris/infer", { method: "POST", body: big }), 413, "larger than");
  });

  it("JSON has the smaller limit (MAX_JSON_REQUEST_BYTES), and the 413 points to binary tensors, which pass", async () => {
    // 3.7 MB of JSON, over the tests' 3.5 MiB JSON limit, under their 4 MiB for any body; the same
    // rows as binary tensors are 1.2 MB.
    const rows = 75_000;
    const data = Array.from({ length: rows * 4 }, (_, i) => 5.123456 + (i % 7));
    const json = JSON.stringify({ inputs: [{ name: "features", datatype: "FP32", shape: [rows, 4], data }] });
    expect(json.length).toBeGreaterThan(3.5 * 1024 * 1024);
    const error = await expectError(await call("/v2/models/iris/infer", { method: "POST", body: json }), 413, "MAX_JSON_REQUEST_BYTES", "Inference-Header-Content-Length");
    expect(error).toContain(String(4 * 1024 * 1024));
    const instances = { instances: Array.from({ length: 2 * rows }, () => [5.1, 3.5, 1.4, 0.2123456789]) };
    await expectError(await post("/v1/models/iris:predict", instances), 413, "MAX_JSON_REQUEST_BYTES");
    // TF Serving reads every body as JSON, whatever the headers say.
    await expectError(await post("/v1/models/iris:predict", instances, { "Inference-Header-Content-Length": "10" }), 413, "MAX_JSON_REQUEST_BYTES");
    const { body, headerLength } = binaryBody({ inputs: [{ name: "features", datatype: "FP32", shape: [rows, 4], parameters: { binary_data_size: rows * 16 } }] }, [new Uint8Array(Float32Array.from(data).buffer)]);
    const res = await call("/v2/models/iris/infer", { method: "POST", headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) }, body });
    expect(res.status, await res.clone().text().catch(() => "")).toBe(200);
  });
});

describe("unknown models, versions and routes are 404; malformed names are 400", () => {
  it("KServe", async () => {
    await expectError(await call("/v2/models/nope"), 404, "model 'nope' not found");
    await expectError(await iris([irisBatch(1)]).then(() => post("/v2/models/nope/infer", { inputs: [irisBatch(1)] })), 404, "not found");
    await expectError(await call("/v2/models/iris/versions/9"), 404, "no version 9");
    await expectError(await call("/v2/models/iris/versions/0"), 400, "positive integers");
    await expectError(await call("/v2/models/iris/versions/abc/infer", { method: "POST", body: "{}" }), 400, "positive integers");
    await expectError(await call("/v2/models/bad%20name"), 400, "model name");
    await expectError(await call("/v2/nothing/here"), 404, "no route");
  });

  it("TF Serving", async () => {
    await expectError(await call("/v1/models/nope"), 404, "not found");
    await expectError(await call("/v1/models/iris/versions/7/metadata"), 404, "no version 7");
    await expectError(await call("/v1/models/iris/labels/canary"), 404, "no label 'canary'");
    await expectError(await call("/v1/models/iris:predict"), 404, "no route");
    await expectError(await call("/v1/models/iris/what"), 404, "no route");
  });
});

describe("TF Serving rejects bad predict bodies with 400", () => {
  const predict = (model: string, body: unknown) => post(`/v1/models/${model}:predict`, body);

  it("neither or both of instances and inputs", async () => {
    await expectError(await predict("iris", {}), 400, "exactly one");
    await expectError(await predict("iris", { instances: [[1, 2, 3, 4]], inputs: [[1, 2, 3, 4]] }), 400, "exactly one");
    await expectError(await predict("iris", { instances: [] }), 400, "non-empty");
  });

  it("ragged instances, unknown names and signatures", async () => {
    await expectError(await predict("iris", { instances: [[1, 2, 3, 4], [1, 2, 3]] }), 400, "instances[1]", "[3]");
    await expectError(await predict("iris", { inputs: [[1, 2, 3, 4], [1, 2]] }), 400, "ragged");
    await expectError(await predict("iris", { instances: [{ petals: [1, 2, 3, 4] }] }), 400, "unknown input 'petals'");
    await expectError(await predict("iris", { signature_name: "classify", instances: [[1, 2, 3, 4]] }), 400, "signature_name");
    await expectError(await predict("silero-vad", { instances: [[0.1]] }), 400, "3 inputs");
  });

  it("lists nested deeper than a tensor's rank, however deep (found by test/codec-properties.test.ts: 100,000 levels were a 500)", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    await expectError(await predict("iris", { instances: [deep] }), 400, "more than 64 levels deep");
    await expectError(await predict("iris", { inputs: deep }), 400, "more than 64 levels deep");
    await expectError(await predict("dtypes", { instances: [{ x_bytes: deep }] }), 400, "more than 64 levels deep");
    await expectError(await iris([{ name: "features", datatype: "FP32", shape: new Array(65).fill(1), data: [1] }]), 400, "shape", "64");
  });

  it("bad b64 and the unsupported classify and regress methods", async () => {
    await expectError(await predict("dtypes", { inputs: { x_bytes: [{ b64: "***" }] } }), 400, "base64");
    await expectError(await post("/v1/models/iris:classify", { examples: [] }), 501, ":predict");
  });
});

describe("a model that cannot load is 503 and never takes the others down", () => {
  it("an empty object", async () => {
    await testEnv.MODELS.put("empty/1/model.onnx", new Uint8Array(0));
    await expectError(await post("/v2/models/empty/infer", { inputs: [irisBatch(1)] }), 503, "model 'empty' version 1 failed to load");
    await json(await iris([irisBatch(1)]));
  });

  it("a corrupt object, with ORT's reason; TF Serving status shows the failure", async () => {
    await testEnv.MODELS.put("corrupt/1/model.onnx", new TextEncoder().encode("this is not an ONNX protobuf at all"));
    const message = await expectError(await call("/v2/models/corrupt/ready"), 503, "failed to load:");
    expect(message.length).toBeGreaterThan("model 'corrupt' version 1 failed to load: ".length);
    const status = await json<{ model_version_status: { state: string; status: { error_message: string } }[] }>(await call("/v1/models/corrupt"));
    expect(status.model_version_status[0]!.state).toBe("END");
    expect(status.model_version_status[0]!.status.error_message).toMatch("failed to load");
    await json(await post("/v2/models/silero-vad/infer", { inputs: sileroInputs() }));
  });

  it("a truncated model", async () => {
    const bytes = await (await testEnv.MODELS.get("silero-vad/1/model.onnx"))!.arrayBuffer();
    await testEnv.MODELS.put("truncated/1/model.onnx", bytes.slice(0, bytes.byteLength / 2));
    await expectError(await call("/v2/models/truncated"), 503, "failed to load");
    await json(await call("/v2/models/silero-vad"));
  });

  it("a config.json that is not valid", async () => {
    await publish("iris/1/model.onnx", "badconfig/1/model.onnx");
    await testEnv.MODELS.put("badconfig/config.json", "{ labels: ");
    await expectError(await call("/v2/models/badconfig"), 503, "config.json is not valid JSON");
    await testEnv.MODELS.put("badconfig/config.json", JSON.stringify({ labels: { stable: "one" } }));
    await expectError(await call("/v2/models/badconfig"), 503, "labels.stable");
    await json(await iris([irisBatch(1)]));
  });
});
