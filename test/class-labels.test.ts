/** Labels files (Triton's convention): published, checked against the outputs' classes, and in classification answers. */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, call, callRaw, ADMIN_TOKEN, fixtureBytes, json, post, reference, setup, testEnv, upload, uploadFixture, type JsonTensor } from "./support/helpers";
import { binaryBody, fromBytes, readBinaryResponse, toBytes } from "./support/binary-wire";
import { irisBatch } from "./support/inputs";

const MODEL = "iris-labelled";
const IRIS = "iris/1/model.onnx";
const SPECIES = ["setosa", "versicolor", "virginica"];

beforeAll(async () => {
  await setup();
  await uploadFixture(MODEL, 1, IRIS);
});

/** PUTs a labels file's text through the admin API. */
function putLabels(file: string, body: string | Uint8Array, model = MODEL, contentType = "text/plain") {
  return callRaw(`/admin/models/${model}/labels/${file}`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": contentType }, body });
}

const putConfig = (config: unknown) => adminCall("PUT", `/models/${MODEL}/config`, config);
const storedConfig = async () => (await testEnv.MODELS.get(`${MODEL}/config.json`))?.text();

/** The reference's rows, each its classes sorted highest first (ties by lower index). */
function sortedRows(ref: JsonTensor): number[][] {
  const classes = ref.shape[1]!;
  return Array.from({ length: ref.shape[0]! }, (_, r) => {
    const row = ref.data.slice(r * classes, (r + 1) * classes) as number[];
    return row.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
  });
}

/** Checks "<score>:<index>:<label>" entries against the reference's sorted rows and the labels. */
function expectLabelled(entries: readonly string[], ref: JsonTensor, k: number): void {
  const classes = ref.shape[1]!;
  sortedRows(ref).forEach((order, r) => {
    for (let j = 0; j < k; j++) {
      const [score, index, label] = entries[r * k + j]!.split(":");
      const want = ref.data[r * classes + order[j]!] as number;
      expect(Math.abs(Number(score) - want)).toBeLessThanOrEqual(1e-5 + 1e-4 * want);
      expect(Math.abs((ref.data[r * classes + Number(index)] as number) - want)).toBeLessThanOrEqual(1e-5 + 1e-4 * want);
      expect(label).toBe(SPECIES[Number(index)]);
    }
  });
}

describe("labels files", () => {
  it("publishes a labels file once: the same bytes again are a 200, other bytes a 409", async () => {
    const text = SPECIES.join("\n") + "\n";
    expect(await json(await putLabels("species.txt", text), 201)).toMatchObject({ model: MODEL, file: "species.txt", labels: 3, created: true });
    expect(await json(await putLabels("species.txt", text), 200)).toMatchObject({ labels: 3, created: false });
    const changed = await json<{ error: string }>(await putLabels("species.txt", "a\nb\nc\n"), 409);
    expect(changed.error).toContain("labels files are immutable");
    expect(await json(await adminCall("GET", `/models/${MODEL}/labels/species.txt`))).toMatchObject({ labels: SPECIES });
    // Windows line ends and no final newline read the same.
    expect(await json(await putLabels("species-crlf.txt", SPECIES.join("\r\n")), 201)).toMatchObject({ labels: 3 });
    expect(await json(await adminCall("GET", `/models/${MODEL}/labels/species-crlf.txt`))).toMatchObject({ labels: SPECIES });
  });

  it("refuses files that are not labels, bad names and unknown models, writing nothing", async () => {
    const refused: [string, string | Uint8Array, string][] = [
      ["empty.txt", "", "empty"],
      ["blank.txt", "setosa\n\nvirginica\n", "line 2 of the labels file is blank"],
      ["latin1.txt", new Uint8Array([0x63, 0xe9, 0x0a]), "not UTF-8"],
    ];
    for (const [file, body, fragment] of refused) {
      expect((await json<{ error: string }>(await putLabels(file, body), 400)).error).toContain(fragment);
      expect(await testEnv.MODELS.head(`${MODEL}/${file}`)).toBeNull();
    }
    expect((await json<{ error: string }>(await putLabels("labels.csv", "a\n"), 400)).error).toContain("not a labels file name");
    expect((await json<{ error: string }>(await putLabels("config.json", "a\n"), 400)).error).toContain("not a labels file name");
    await json(await putLabels("species.txt", "a\n", "no-such-model"), 404);
    await json(await putLabels("x.txt", "a\n", MODEL, "application/json"), 415);
  });

  it("refuses a config whose labels file is missing or does not count the output's classes, leaving the old config", async () => {
    await json(await putLabels("two.txt", "setosa\nother\n"), 201);
    const before = await storedConfig();
    const cases: [unknown, string][] = [
      [{ label_files: { probabilities: "two.txt" } }, "labels file 'two.txt' has 2 labels, but output 'probabilities' of version 1 has 3 classes"],
      [{ label_files: { probabilities: "missing.txt" } }, "labels file 'missing.txt' is not published"],
      [{ label_files: { nope: "species.txt" } }, "names output 'nope', which version 1 does not have"],
      [{ label_files: { label: "species.txt" } }, "output 'label' has shape [-1], whose class dimension is not fixed"],
    ];
    for (const [classification, fragment] of cases) {
      const body = await json<{ error: string }>(await putConfig({ classification }), 400);
      expect(body.error).toContain("config refused, the old one keeps serving");
      expect(body.error).toContain(fragment);
      expect(await storedConfig()).toBe(before);
    }
  });

  it("labels the classes of an output once the config names its file, in JSON and binary answers", async () => {
    await json(await putConfig({ classification: { label_files: { probabilities: "species.txt" } } }));
    const input = irisBatch(150);
    const [ref] = await reference(IRIS, [input], ["probabilities"]);
    const body = await json<{ outputs: JsonTensor[] }>(await post(`/v2/models/${MODEL}/infer`, { inputs: [input], outputs: [{ name: "probabilities", parameters: { classification: 3 } }] }));
    expect(body.outputs[0]).toMatchObject({ datatype: "BYTES", shape: [150, 3] });
    expectLabelled(body.outputs[0]!.data as string[], ref!, 3);

    const { body: framed, headerLength } = binaryBody(
      { inputs: [{ name: "features", datatype: "FP32", shape: input.shape, parameters: { binary_data_size: 150 * 16 } }], outputs: [{ name: "probabilities", parameters: { classification: 2, binary_data: true } }] },
      [toBytes("FP32", input.data)],
    );
    const res = await call(`/v2/models/${MODEL}/infer`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) },
      body: framed,
    });
    expect(res.status).toBe(200);
    const { json: head, parts } = await readBinaryResponse(res);
    expect(head.outputs[0]).toMatchObject({ datatype: "BYTES", shape: [150, 2] });
    expectLabelled(fromBytes("BYTES", parts.get("probabilities")!) as string[], ref!, 2);
  });

  it("refuses a new version whose output does not fit the labels, and deletes only unnamed files", async () => {
    const refused = await json<{ error: string }>(await upload(MODEL, 2, await fixtureBytes("cnn/1/model.onnx")), 400);
    expect(refused.error).toContain("this version was not published: labels file 'species.txt' has 3 labels, but output 'probabilities' of version 2 has 10 classes");
    expect(await testEnv.MODELS.head(`${MODEL}/2/model.onnx`)).toBeNull();
    await uploadFixture(MODEL, 2, "candidates/iris-retrained.onnx");

    const inUse = await json<{ error: string }>(await adminCall("DELETE", `/models/${MODEL}/labels/species.txt`), 409);
    expect(inUse.error).toContain("is named in its config for output 'probabilities'");
    expect(await json(await adminCall("DELETE", `/models/${MODEL}/labels/two.txt`))).toMatchObject({ deleted: true });
    expect(await testEnv.MODELS.head(`${MODEL}/two.txt`)).toBeNull();
    await json(await adminCall("DELETE", `/models/${MODEL}/labels/two.txt`), 404);
  });

  it("answers 503 with the reason when a labels file was removed around the admin API", async () => {
    await json(await putLabels("gone.txt", SPECIES.join("\n")), 201);
    await json(await putConfig({ classification: { label_files: { probabilities: "gone.txt" } } }));
    await testEnv.MODELS.delete(`${MODEL}/gone.txt`);
    const res = await post(`/v2/models/${MODEL}/infer`, { inputs: [irisBatch(1)], outputs: [{ name: "probabilities", parameters: { classification: 1 } }] });
    expect((await json<{ error: string }>(res, 503)).error).toContain("labels file 'gone.txt' named for output 'probabilities' is not in the repository");
    // Without classification the model still answers.
    await json(await post(`/v2/models/${MODEL}/infer`, { inputs: [irisBatch(1)] }));
    await json(await putConfig({ classification: { label_files: { probabilities: "species.txt" } } }));
  });
});
