/** Publishing, immutability, delete guards, config validation and labels, through the admin API. */
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, adminCall, call, callRaw, expectMatchesReference, fixtureBytes, json, post, reference, setup, sha256, testEnv, upload, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";
const RETRAINED = "candidates/iris-retrained.onnx";

async function expectError(res: Response, status: number, code: string, ...fragments: string[]) {
  const body = await json<{ error: string; code: string }>(res, status);
  expect(body.code).toBe(code);
  for (const f of fragments) expect(body.error).toContain(f);
}

const configOf = async (model: string) => (await json<{ config: Record<string, unknown> }>(await adminCall("GET", `/models/${model}/config`))).config;

describe("publishing a version", () => {
  it("loads it, stores it with its SHA-256, size and signature, and serves it", async () => {
    const bytes = await fixtureBytes(IRIS);
    const res = await upload("lc-pub", 1, bytes);
    const body = await json<Record<string, unknown>>(res, 201);
    expect(body).toMatchObject({ model: "lc-pub", version: 1, sha256: await sha256(bytes), size: bytes.byteLength, created: true });
    expect(body.signature).toEqual({
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
        { name: "label", datatype: "INT64", shape: [-1] },
      ],
    });

    const stored = await testEnv.MODELS.head("lc-pub/1/model.onnx");
    expect(stored?.customMetadata?.sha256).toBe(await sha256(bytes));
    expect(stored?.size).toBe(bytes.byteLength);

    const inputs = [irisBatch(10)];
    const out = await json<{ outputs: JsonTensor[]; model_version: string }>(await post("/v2/models/lc-pub/infer", { inputs }));
    expect(out.model_version).toBe("1");
    expectMatchesReference(out.outputs, await reference(IRIS, inputs));

    const described = await json<{ versions: Record<string, unknown>[]; routing: unknown }>(await adminCall("GET", "/models/lc-pub"));
    expect(described.routing).toEqual({ kind: "latest", version: 1 });
    expect(described.versions).toHaveLength(1);
    expect(described.versions[0]).toMatchObject({ version: 1, sha256: await sha256(bytes), size: bytes.byteLength, isolate_state: "ready" });
    const list = await json<{ models: { name: string; versions: number[] }[] }>(await adminCall("GET", "/models"));
    expect(list.models.find((m) => m.name === "lc-pub")).toMatchObject({ versions: [1], latest: 1 });
    expect(list.models.map((m) => m.name)).toContain("iris");
  });

  it("is idempotent for the same bytes and refuses different bytes under a taken version (409), leaving the first", async () => {
    await uploadFixture("lc-imm", 1, IRIS);
    const before = await testEnv.MODELS.head("lc-imm/1/model.onnx");
    const again = await json<{ created: boolean }>(await upload("lc-imm", 1, await fixtureBytes(IRIS)), 200);
    expect(again.created).toBe(false);
    await expectError(await upload("lc-imm", 1, await fixtureBytes(RETRAINED)), 409, "conflict", "immutable");
    const after = await testEnv.MODELS.head("lc-imm/1/model.onnx");
    expect(after?.etag).toBe(before?.etag);
    // A new number is how a changed model ships.
    await json(await upload("lc-imm", 2, await fixtureBytes(RETRAINED)), 201);
  });

  it("refuses what onnxruntime cannot load with its reason, and writes nothing", async () => {
    const bytes = new Uint8Array(await fixtureBytes(IRIS));
    await expectError(await upload("lc-bad", 1, "this is not a model"), 400, "invalid_argument", "not an ONNX model");
    await expectError(await upload("lc-bad", 1, bytes.slice(0, bytes.byteLength / 2)), 400, "invalid_argument", "onnxruntime cannot load");
    await expectError(await upload("lc-bad", 1, new Uint8Array(0)), 400, "invalid_argument", "empty");
    await expectError(await upload("lc-bad", 1, bytes, "text/plain"), 415, "unsupported_media_type");
    const compressed = await callRaw("/admin/models/lc-bad/versions/1", {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/octet-stream", "content-encoding": "br" },
      body: bytes,
    });
    await expectError(compressed, 415, "unsupported_media_type", "Content-Encoding 'br'");
    for (const version of ["0", "-1", "1.5", "abc", "01"]) {
      await expectError(await upload("lc-bad", version, bytes), 400, "invalid_argument", "positive integers");
    }
    await expectError(await upload("bad name!", 1, bytes), 400, "invalid_argument", "model name");
    const listed = await testEnv.MODELS.list({ prefix: "lc-bad/" });
    expect(listed.objects).toEqual([]);
  });

  it("refuses an upload over MAX_MODEL_BYTES with 413, writing nothing", async () => {
    const big = new Uint8Array(8 * 1024 * 1024 + 1);
    big[0] = 0x08;
    await expectError(await upload("lc-big", 1, big), 413, "payload_too_large", "MAX_MODEL_BYTES");
    expect((await testEnv.MODELS.list({ prefix: "lc-big/" })).objects).toEqual([]);
  });

  it("lets exactly one of two concurrent publishes of a version win; the repository holds the winner whole", async () => {
    const [a, b] = [await fixtureBytes(IRIS), await fixtureBytes(RETRAINED)];
    const results = await Promise.all([upload("lc-race", 1, a), upload("lc-race", 1, b)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = results[0]!.status === 201 ? a : b;
    const stored = await testEnv.MODELS.get("lc-race/1/model.onnx");
    expect(await sha256(await stored!.arrayBuffer())).toBe(await sha256(winner));
    expect(stored!.customMetadata?.sha256).toBe(await sha256(winner));

    const same = await Promise.all([upload("lc-race2", 1, a), upload("lc-race2", 1, a)]);
    expect(same.map((r) => r.status).sort()).toEqual([200, 201]);
  });
});

describe("deleting a version", () => {
  it("is refused while the config points at it, by label, split, default or shadow", async () => {
    for (const v of [1, 2, 3]) await uploadFixture("lc-del", v, IRIS);
    await json(await adminCall("PUT", "/models/lc-del/config", { labels: { stable: 1 }, default_version: 2 }));
    await expectError(await adminCall("DELETE", "/models/lc-del/versions/1"), 409, "conflict", "label 'stable'");
    await expectError(await adminCall("DELETE", "/models/lc-del/versions/2"), 409, "conflict", "default_version");
    await json(await adminCall("PUT", "/models/lc-del/config", { traffic: { "1": 90, "2": 10 }, shadow: { version: 3, percent: 5 } }));
    await expectError(await adminCall("DELETE", "/models/lc-del/versions/2"), 409, "conflict", "traffic");
    await expectError(await adminCall("DELETE", "/models/lc-del/versions/3"), 409, "conflict", "shadow");

    await json(await adminCall("PUT", "/models/lc-del/config", { default_version: 1 }));
    const deleted = await json<{ deleted: boolean }>(await adminCall("DELETE", "/models/lc-del/versions/3"));
    expect(deleted.deleted).toBe(true);
    expect(await testEnv.MODELS.head("lc-del/3/model.onnx")).toBeNull();
    await expectError(await adminCall("DELETE", "/models/lc-del/versions/3"), 404, "not_found", "no version 3");
    expect((await json<{ error: string }>(await call("/v2/models/lc-del/versions/3"), 404)).error).toContain("no version 3");
  });
});

describe("a model's config", () => {
  it("is validated against the versions that exist and refused whole, the old one kept", async () => {
    await uploadFixture("lc-cfg", 1, IRIS);
    await uploadFixture("lc-cfg", 2, RETRAINED);
    const good = { labels: { stable: 1, canary: 2 }, traffic: { "1": 80, "2": 20 } };
    await json(await adminCall("PUT", "/models/lc-cfg/config", good));
    const refused: [unknown, string][] = [
      [{ traffic: { "1": 80, "2": 10 } }, "sum to 100"],
      [{ traffic: { "1": 80, "9": 20 } }, "traffic (weight 20) points at version 9"],
      [{ labels: { stable: 7 } }, "label 'stable' points at version 7, which does not exist"],
      [{ default_version: 5 }, "default_version points at version 5"],
      [{ shadow: { version: 4, percent: 10 } }, "shadow points at version 4"],
      [{ shadow: { version: 2, percent: 150 } }, "shadow.percent"],
      [{ labels: { "9lives": 1 } }, "label names"],
      [{ traffic: { abc: 100 } }, "traffic keys are versions"],
      [{ default_version: 1, colour: "blue" }, "colour"],
      [[1, 2], "config"],
    ];
    for (const [config, fragment] of refused) {
      await expectError(await adminCall("PUT", "/models/lc-cfg/config", config), 400, "invalid_argument", fragment, "old one keeps serving");
    }
    await expectError(await adminCall("PUT", "/models/lc-cfg/config", "{not json"), 400, "invalid_argument", "not valid JSON");
    expect(await configOf("lc-cfg")).toEqual(good);
    await expectError(await adminCall("PUT", "/models/lc-nothing/config", good), 404, "not_found", "publish a version");
  });

  it("refuses a write based on a stale read (If-Match)", async () => {
    await uploadFixture("lc-etag", 1, IRIS);
    const first = await json<{ etag: string }>(await adminCall("PUT", "/models/lc-etag/config", { default_version: 1 }));
    await json(await adminCall("PUT", "/models/lc-etag/config", { labels: { stable: 1 } }));
    const stale = await callRawAdmin("PUT", "/models/lc-etag/config", { default_version: 1 }, { "if-match": `"${first.etag}"` });
    await expectError(stale, 412, "precondition_failed", "If-Match");
    expect(await configOf("lc-etag")).toEqual({ labels: { stable: 1 } });
  });

  it("routes labels to their versions on both protocols, and a rollback is one call", async () => {
    await uploadFixture("lc-lab", 1, IRIS);
    await uploadFixture("lc-lab", 2, RETRAINED);
    await json(await adminCall("PUT", "/models/lc-lab/config", { default_version: 1, labels: { stable: 1, canary: 2 } }));
    const inputs = [irisBatch(5)];
    const canary = await json<{ outputs: JsonTensor[]; model_version: string }>(await post("/v2/models/lc-lab/infer", { inputs }, { "X-Model-Label": "canary" }));
    expect(canary.model_version).toBe("2");
    expectMatchesReference(canary.outputs, await reference(RETRAINED, inputs));
    const tf = await post("/v1/models/lc-lab/labels/canary:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(tf.headers.get("X-Model-Version")).toBe("2");
    const plain = await json<{ outputs: JsonTensor[]; model_version: string }>(await post("/v2/models/lc-lab/infer", { inputs }));
    expect(plain.model_version).toBe("1");
    expectMatchesReference(plain.outputs, await reference(IRIS, inputs));

    // Promote, then roll back: each is one config write.
    await json(await adminCall("PUT", "/models/lc-lab/config", { default_version: 2, labels: { stable: 2, previous: 1 } }));
    expect((await json<{ model_version: string }>(await post("/v2/models/lc-lab/infer", { inputs }))).model_version).toBe("2");
    await json(await adminCall("PUT", "/models/lc-lab/config", { default_version: 1, labels: { stable: 1, canary: 2 } }));
    expect((await json<{ model_version: string }>(await post("/v2/models/lc-lab/infer", { inputs }))).model_version).toBe("1");
  });
});

function callRawAdmin(method: string, path: string, body: unknown, headers: Record<string, string>) {
  return callRaw(`/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}
