/**
 * Request bodies sent compressed (Content-Encoding gzip, x-gzip or deflate), as Triton's and TF
 * Serving's clients can send them: the same answers as the uncompressed body, checked against
 * onnxruntime-node, in both protocols, JSON and binary tensors, sent with a length or streamed, and
 * model uploads; a body that inflates past its route's limit is a 413 and leaves nothing of the
 * isolate's memory budget held; bytes not of the coding are a 400; other codings a 415.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, ADMIN_TOKEN, call, callRaw, expectMatchesReference, fixtureBytes, json, reference, setup, streamed, type JsonTensor } from "./support/helpers";
import { binaryBody, fromBytes, readBinaryResponse, toBytes } from "./support/binary-wire";
import { irisBatch, prng } from "./support/inputs";

beforeAll(setup);

type Coding = "gzip" | "deflate";

async function compress(body: string | Uint8Array | ArrayBuffer, coding: Coding): Promise<Uint8Array> {
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream(coding));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** POSTs `body` compressed with `coding`, named as `as` (x-gzip, say) in Content-Encoding. */
async function postCompressed(path: string, body: string | Uint8Array, coding: Coding, headers: Record<string, string> = {}, as: string = coding): Promise<Response> {
  return call(path, { method: "POST", headers: { "content-type": "application/json", "content-encoding": as, ...headers }, body: await compress(body, coding) });
}

async function expectError(res: Response, status: number, ...mentions: (string | RegExp)[]): Promise<string> {
  const body = await json<{ error: string }>(res, status);
  expect(Object.keys(body)).toEqual(["error"]);
  for (const m of mentions) expect(body.error).toMatch(m);
  return body.error;
}

async function requestMemory(): Promise<{ reserved_bytes: number; waiting: number }> {
  return (await json<{ request_memory: { reserved_bytes: number; waiting: number } }>(await adminCall("GET", "/isolate"))).request_memory;
}

describe("compressed request bodies are decompressed", () => {
  it("KServe JSON, as gzip, x-gzip and deflate: the uncompressed body's answer, and onnxruntime-node's", async () => {
    const input = irisBatch(20);
    const body = JSON.stringify({ inputs: [input] });
    const want = await reference("iris/1/model.onnx", [input]);
    const plain = await json<{ outputs: JsonTensor[] }>(await call("/v2/models/iris/infer", { method: "POST", body }));
    expectMatchesReference(plain.outputs, want);
    for (const [coding, as] of [["gzip", "gzip"], ["gzip", "x-gzip"], ["deflate", "Deflate"]] as const) {
      const answer = await json<{ outputs: JsonTensor[] }>(await postCompressed("/v2/models/iris/infer", body, coding, {}, as));
      expect(answer, as).toEqual(plain);
    }
  });

  it("KServe binary tensors: a 1×3×224×224 image behind an unpadded header, gzip-compressed, sent with a length or streamed", async () => {
    const rand = prng(11);
    const image: JsonTensor = { name: "image", datatype: "FP32", shape: [1, 3, 224, 224], data: Array.from({ length: 3 * 224 * 224 }, () => Math.fround(rand() * 2 - 1)) };
    const want = await reference("cnn/1/model.onnx", [image]);
    const header = { parameters: { binary_data_output: true }, inputs: [{ name: "image", datatype: "FP32", shape: image.shape, parameters: { binary_data_size: 3 * 224 * 224 * 4 } }] };
    const { body, headerLength } = binaryBody(header, [toBytes("FP32", image.data)]);
    // Inference-Header-Content-Length is the JSON header's length in the body decompressed.
    expect(headerLength % 8).not.toBe(0);
    const gzipped = await compress(body, "gzip");
    const headers = { "content-type": "application/octet-stream", "content-encoding": "gzip", "Inference-Header-Content-Length": String(headerLength) };
    for (const sent of [gzipped, streamed(gzipped, 4096)]) {
      const { json: head, parts } = await readBinaryResponse(await call("/v2/models/cnn/infer", { method: "POST", headers, body: sent }));
      const outputs = head.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: fromBytes(o.datatype, parts.get(o.name)!) }));
      expectMatchesReference(outputs, want);
    }
  });

  it("TF Serving's predict, gzip-compressed: the uncompressed body's answer", async () => {
    const input = irisBatch(6);
    const body = JSON.stringify({ instances: Array.from({ length: 6 }, (_, r) => input.data.slice(r * 4, r * 4 + 4)) });
    const plain = await json(await call("/v1/models/iris:predict", { method: "POST", body }));
    expect(await json(await postCompressed("/v1/models/iris:predict", body, "gzip"))).toEqual(plain);
  });

  it("a model upload, gzip-compressed, publishes the model's own bytes", async () => {
    const bytes = new Uint8Array(await fixtureBytes("iris/1/model.onnx"));
    const res = await callRaw("/admin/models/coded-iris/versions/1", {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/octet-stream", "content-encoding": "gzip" },
      body: await compress(bytes, "gzip"),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const input = irisBatch(3);
    const answer = await json<{ outputs: JsonTensor[] }>(await call("/v2/models/coded-iris/infer", { method: "POST", body: JSON.stringify({ inputs: [input] }) }));
    expectMatchesReference(answer.outputs, await reference("iris/1/model.onnx", [input]));
  });
});

describe("compressed request bodies that are wrong", () => {
  it("a body that decompresses past its route's limit is a 413, stopped there, with nothing of the memory budget left held", async () => {
    // 5 MiB of JSON (the tests' JSON limit is 3.5 MiB) in a few kilobytes of gzip.
    const bomb = JSON.stringify({ inputs: [irisBatch(1)], pad: "0".repeat(5 * 1024 * 1024) });
    const sent = await compress(bomb, "gzip");
    expect(sent.byteLength).toBeLessThan(64 * 1024);
    await expectError(await call("/v2/models/iris/infer", { method: "POST", headers: { "content-encoding": "gzip" }, body: sent }), 413, "MAX_JSON_REQUEST_BYTES", "decompressed");
    await expectError(await call("/v1/models/iris:predict", { method: "POST", headers: { "content-encoding": "gzip" }, body: sent }), 413, "decompressed");
    // Binary: 5 MiB of zeros, over the tests' 4 MiB for any body.
    const zeros = await compress(new Uint8Array(5 * 1024 * 1024), "deflate");
    const headers = { "content-encoding": "deflate", "content-type": "application/octet-stream", "Inference-Header-Content-Length": "0" };
    await expectError(await call("/v2/models/iris/infer", { method: "POST", headers, body: zeros }), 413, "larger than 4194304 bytes", "decompressed");
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });

  it("bytes that are not of the coding, or cut short, are a 400 in the protocol's error shape", async () => {
    const body = JSON.stringify({ inputs: [irisBatch(2)] });
    const notGzip = new TextEncoder().encode(body);
    await expectError(await call("/v2/models/iris/infer", { method: "POST", headers: { "content-encoding": "gzip" }, body: notGzip }), 400, "not valid gzip data");
    const gzipped = await compress(body, "gzip");
    const cut = gzipped.slice(0, gzipped.byteLength - 12);
    await expectError(await call("/v1/models/iris:predict", { method: "POST", headers: { "content-encoding": "gzip" }, body: cut }), 400, "not valid gzip data");
    await expectError(await call("/v2/models/iris/infer", { method: "POST", headers: { "content-encoding": "deflate" }, body: gzipped }), 400, "not valid deflate data");
    expect(await requestMemory()).toMatchObject({ reserved_bytes: 0, waiting: 0 });
  });

  it("other codings, and more than one, are a 415 naming the codings accepted (RFC 7694)", async () => {
    const gzipped = await compress(JSON.stringify({ inputs: [irisBatch(2)] }), "gzip");
    for (const coding of ["br", "zstd", "gzip, gzip"]) {
      const res = await call("/v2/models/iris/infer", { method: "POST", headers: { "content-encoding": coding }, body: gzipped });
      expect(res.headers.get("Accept-Encoding")).toBe("gzip, deflate, identity");
      await expectError(res, 415, `Content-Encoding '${coding}'`);
    }
  });
});
