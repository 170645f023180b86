/** A model's writes racing each other: a config naming a version against a delete of that version. */
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ModelWriter } from "../src/serving/model-writer";
import { adminCall, call, fixtureBytes, json, post, setup, testEnv } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";
const writerOf = (model: string) => testEnv.MODEL_WRITERS.get(testEnv.MODEL_WRITERS.idFromName(model));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const configEtag = async (model: string) => (await json<{ etag: string | null }>(await adminCall("GET", `/models/${model}/config`))).etag;

describe("a config write and a delete of the version it names", () => {
  it("are never both applied: the loser gets 409 and the model keeps serving requests that name no version", async () => {
    const model = "race-cfg-del";
    const bytes = await fixtureBytes(IRIS);
    await testEnv.MODELS.put(`${model}/1/model.onnx`, bytes);
    await json(await adminCall("PUT", `/models/${model}/config`, { default_version: 1 }));
    for (let k = 2; k <= 31; k++) {
      await testEnv.MODELS.put(`${model}/${k}/model.onnx`, bytes);
      // Loaded beforehand, the config write's check of it needs no read of R2 and no onnxruntime
      // work (which holds the isolate): the two requests' R2 calls interleave.
      await json(await post(`/v2/models/${model}/versions/${k}/infer`, { inputs: [irisBatch(1)] }));
      // Either may go first: sent together, a microtask apart, or a timer apart.
      const later = (send: () => Promise<Response>) => (k % 4 === 0 ? send() : k % 4 === 1 ? Promise.resolve().then(send) : sleep(k % 4 - 2).then(send));
      const write = () => adminCall("PUT", `/models/${model}/config`, { default_version: k });
      const remove = () => adminCall("DELETE", `/models/${model}/versions/${k}`);
      const [configured, deleted] = k % 2 === 0 ? await Promise.all([write(), later(remove)]) : (await Promise.all([remove(), later(write)])).reverse();
      const texts = [await configured!.text(), await deleted!.text()];
      const statuses = `${configured!.status}/${deleted!.status}`;
      expect(statuses, texts.join(" | ")).not.toBe("200/200");
      if (configured!.status === 200) {
        expect(deleted!.status, texts[1]).toBe(409);
        expect(JSON.parse(texts[1]!)).toMatchObject({ code: "conflict", error: expect.stringContaining("default_version") });
        expect(await testEnv.MODELS.head(`${model}/${k}/model.onnx`)).not.toBeNull();
      } else {
        expect(deleted!.status, texts[1]).toBe(200);
        // Refused in the writer's turn (409), or, when the delete was done before the config was
        // even read, as any config naming a missing version is (400).
        expect([409, 400], texts[0]).toContain(configured!.status);
        expect(JSON.parse(texts[0]!)).toMatchObject({ code: configured!.status === 409 ? "conflict" : "invalid_argument", error: expect.stringContaining("keeps serving") });
        expect(await testEnv.MODELS.head(`${model}/${k}/model.onnx`)).toBeNull();
      }
      // Requests naming no version are served by a version that exists.
      expect((await call(`/v2/models/${model}`)).status).toBe(200);
    }
  });

  it("refuses a config in the writer's turn when a version it loaded was deleted or replaced, or the config moved on", async () => {
    const model = "race-writer";
    const bytes = await fixtureBytes(IRIS);
    await testEnv.MODELS.put(`${model}/1/model.onnx`, bytes);
    const v2 = (await testEnv.MODELS.put(`${model}/2/model.onnx`, bytes))!;
    await json(await adminCall("PUT", `/models/${model}/config`, { default_version: 1 }));
    const etag = await configEtag(model);
    const writer = writerOf(model);

    const gone = await writer.putConfig(model, { config: { default_version: 3 }, expectedEtag: etag, loaded: [{ version: 3, etag: "loaded-before-its-delete" }] });
    expect(gone).toMatchObject({ ok: false, code: "conflict", message: expect.stringContaining("default_version points at version 3, which does not exist") });
    const replaced = await writer.putConfig(model, { config: { default_version: 2 }, expectedEtag: etag, loaded: [{ version: 2, etag: "other-bytes" }] });
    expect(replaced).toMatchObject({ ok: false, code: "conflict", message: expect.stringContaining("replaced") });
    const stale = await writer.putConfig(model, { config: { default_version: 2 }, expectedEtag: "an-older-config", loaded: [{ version: 2, etag: v2.etag }] });
    expect(stale).toMatchObject({ ok: false, code: "precondition_failed", message: expect.stringContaining("changed by another request") });
    expect(await configEtag(model)).toBe(etag);

    const written = await writer.putConfig(model, { config: { default_version: 2 }, expectedEtag: etag, loaded: [{ version: 2, etag: v2.etag }] });
    expect(written.ok && written.value.etag).toBe(await configEtag(model));
    expect(await writer.deleteVersion(model, 2)).toMatchObject({ ok: false, code: "conflict" });
    expect(await writer.deleteVersion(model, 1)).toMatchObject({ ok: true, value: { version: 1 } });
    expect(await writer.deleteVersion(model, 1)).toMatchObject({ ok: false, code: "not_found" });
  });
});

describe("the model's writer", () => {
  it("reads the model's config once per config write, and still refuses a stale etag with 412", async () => {
    const model = "writer-reads";
    await testEnv.MODELS.put(`${model}/1/model.onnx`, await fixtureBytes(IRIS));
    await json(await adminCall("PUT", `/models/${model}/config`, { default_version: 1 }));
    const etag = await configEtag(model);
    await runInDurableObject(writerOf(model), async (writer: ModelWriter) => {
      const bucket = (writer as unknown as { env: Env }).env.MODELS;
      const gets = vi.spyOn(bucket, "get");
      try {
        const written = await writer.putConfig(model, { config: { default_version: 1, description: "once" }, expectedEtag: etag, loaded: [] });
        expect(written.ok).toBe(true);
        expect(gets.mock.calls.filter(([key]) => key === `${model}/config.json`)).toHaveLength(1);
        const stale = await writer.putConfig(model, { config: { default_version: 1 }, expectedEtag: etag, loaded: [] });
        expect(stale).toMatchObject({ ok: false, code: "precondition_failed" });
      } finally {
        gets.mockRestore();
      }
    });
  });
});
