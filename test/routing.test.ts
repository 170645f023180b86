import { beforeAll, describe, expect, it } from "vitest";
import { call, json, post, publish, setup, testEnv } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const infer = (headers: Record<string, string> = {}) => post("/v2/models/split/infer", { inputs: [irisBatch(1)] }, headers);

async function publishSplit(config: object): Promise<void> {
  await publish("iris/1/model.onnx", "split/1/model.onnx");
  await publish("iris/1/model.onnx", "split/2/model.onnx");
  await testEnv.MODELS.put("split/config.json", JSON.stringify(config));
}

describe("traffic splits over HTTP", () => {
  it("stick to a client id and reach both versions across clients", async () => {
    await publishSplit({ traffic: { "1": 50, "2": 50 } });
    const seen = new Set<string>();
    for (let client = 0; client < 24; client++) {
      const versions = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const res = await infer({ "X-Client-Id": `client-${client}` });
        const body = await json<{ model_version: string }>(res);
        expect(res.headers.get("X-Model-Version")).toBe(body.model_version);
        versions.add(body.model_version);
      }
      expect(versions.size, `client-${client}`).toBe(1);
      seen.add([...versions][0]!);
    }
    expect([...seen].sort()).toEqual(["1", "2"]);
  });

  it("give way to an explicit version, and to a label (URL for TF Serving, X-Model-Label for KServe)", async () => {
    await publishSplit({ traffic: { "2": 100 }, labels: { stable: 1 } });
    expect((await json<{ model_version: string }>(await infer())).model_version).toBe("2");
    expect((await json<{ model_version: string }>(await infer({ "X-Model-Label": "stable" }))).model_version).toBe("1");
    const versioned = await post("/v2/models/split/versions/1/infer", { inputs: [irisBatch(1)] });
    expect(versioned.headers.get("X-Model-Version")).toBe("1");
    const tf = await post("/v1/models/split/labels/stable:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(tf.headers.get("X-Model-Version")).toBe("1");
  });

  it("refuse an unknown or malformed label header, and a split to a missing version", async () => {
    await publishSplit({ traffic: { "1": 100 } });
    expect((await infer({ "X-Model-Label": "nope" })).status).toBe(404);
    expect((await infer({ "X-Model-Label": "-x" })).status).toBe(400);
    await testEnv.MODELS.put("split/config.json", JSON.stringify({ traffic: { "1": 50, "5": 50 } }));
    const statuses = new Set<number>();
    for (let i = 0; i < 12; i++) statuses.add((await infer({ "X-Client-Id": `c${i}` })).status);
    expect(statuses).toContain(503);
    await testEnv.MODELS.put("split/config.json", JSON.stringify({ traffic: { "1": 60 } }));
    const res = await call("/v2/models/split");
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("sum to 100");
  });

  it("answer 404 for a label named like a member every JavaScript object inherits, in both protocols", async () => {
    await publishSplit({ labels: { stable: 1 } });
    for (const label of ["constructor", "toString", "valueOf", "hasOwnProperty"]) {
      const kserve = await infer({ "X-Model-Label": label });
      expect(kserve.status, label).toBe(404);
      expect(await kserve.json()).toEqual({ error: `model 'split' has no label '${label}'` });
      expect((await call("/v2/models/split", { headers: { "X-Model-Label": label } })).status, label).toBe(404);
      const tf = await post(`/v1/models/split/labels/${label}:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
      expect(tf.status, label).toBe(404);
      expect(await tf.json()).toEqual({ error: `model 'split' has no label '${label}'` });
      expect((await call(`/v1/models/split/labels/${label}`)).status, label).toBe(404);
    }
  });
});
