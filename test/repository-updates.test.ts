import { beforeAll, describe, expect, it } from "vitest";
import { call, eventually, json, post, publish, setup, testEnv } from "./support/helpers";
import { irisBatch, sileroInputs } from "./support/inputs";

beforeAll(setup);

const servedVersion = async (path: string, body: unknown = { inputs: [irisBatch(1)] }) =>
  (await json<{ model_version: string }>(await post(path, body))).model_version;

describe("version resolution", () => {
  it("serves the highest version when none is asked for, and any version asked for", async () => {
    // A model without config.json (the demo iris pins default_version).
    for (const v of [1, 3, 12]) await publish("iris/1/model.onnx", `latest/${v}/model.onnx`);
    expect(await servedVersion("/v2/models/latest/infer")).toBe("12");
    expect(await servedVersion("/v2/models/latest/versions/3/infer")).toBe("3");
    expect((await json<{ versions: string[] }>(await call("/v2/models/latest"))).versions).toEqual(["1", "3", "12"]);
    const status = await json<{ model_version_status: { version: string }[] }>(await call("/v1/models/latest"));
    expect(status.model_version_status.map((s) => s.version)).toEqual(["12", "3", "1"]);
  });

  // On copies of iris: the demo model itself is shared with the other test files.
  it("serves config.json's default_version over the latest, and its labels", async () => {
    await publish("iris/1/model.onnx", "labelled/1/model.onnx");
    await publish("iris/1/model.onnx", "labelled/2/model.onnx");
    await testEnv.MODELS.put("labelled/config.json", JSON.stringify({ default_version: 1, labels: { stable: 1, canary: 2 } }));
    expect(await servedVersion("/v2/models/labelled/infer")).toBe("1");
    const canary = await post("/v1/models/labelled/labels/canary:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(canary.headers.get("X-Model-Version")).toBe("2");
  });

  it("refuses a label or default that points at a missing version with 503, naming it", async () => {
    await testEnv.MODELS.put("labelled/config.json", JSON.stringify({ labels: { stable: 5 } }));
    const res = await call("/v1/models/labelled/labels/stable/metadata");
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch("version 5, which does not exist");
  });
});

describe("the repository changes while the Worker runs", () => {
  it("serves a newly published model and version without a restart", async () => {
    await json(await call("/v2/models/iris"));
    await json(await call("/v2/models/fresh"), 404);
    await publish("iris/1/model.onnx", "fresh/1/model.onnx");
    expect(await servedVersion("/v2/models/fresh/infer")).toBe("1");
    await publish("iris/1/model.onnx", "fresh/2/model.onnx");
    // Version 1 keeps answering while version 2 loads in the background, then 2 takes over.
    expect(["1", "2"]).toContain(await servedVersion("/v2/models/fresh/infer"));
    await eventually(async () => ((await servedVersion("/v2/models/fresh/infer")) === "2" ? true : undefined), "version 2 to take over");
    expect(await servedVersion("/v2/models/fresh/versions/2/infer")).toBe("2");
  });

  it("keeps routed traffic on the loaded version until the new one is loaded (availability preserving)", async () => {
    const infer = async (path = "/v2/models/avail/infer") => {
      const res = await post(path, { inputs: sileroInputs() });
      await json(res);
      return res.headers.get("X-Model-Version");
    };
    await publish("silero-vad/1/model.onnx", "avail/1/model.onnx");
    expect(await infer()).toBe("1");
    // A new latest version appears: requests do not wait for it to load; version 1 answers.
    await publish("silero-vad/1/model.onnx", "avail/2/model.onnx");
    expect(await infer()).toBe("1");
    expect((await json<{ versions: string[] }>(await call("/v2/models/avail"))).versions).toEqual(["1", "2"]);
    // Asked for by number, version 2 is there at once; routed traffic moves once it is loaded.
    expect(await infer("/v2/models/avail/versions/2/infer")).toBe("2");
    expect(await eventually(async () => ((await infer()) === "2" ? "2" : undefined), "routing to move to version 2")).toBe("2");
  });

  it("serves the new bytes when a version's object is replaced", async () => {
    await publish("iris/1/model.onnx", "swap/1/model.onnx");
    const before = await json<{ inputs: { name: string }[] }>(await call("/v2/models/swap"));
    expect(before.inputs.map((i) => i.name)).toEqual(["features"]);
    await publish("silero-vad/1/model.onnx", "swap/1/model.onnx");
    const after = await json<{ inputs: { name: string }[] }>(await call("/v2/models/swap"));
    expect(after.inputs.map((i) => i.name)).toEqual(["input", "state", "sr"]);
  });

  it("stops serving a version once its object is deleted", async () => {
    await publish("iris/1/model.onnx", "gone/1/model.onnx");
    await publish("iris/1/model.onnx", "gone/2/model.onnx");
    expect(await servedVersion("/v2/models/gone/infer")).toBe("2");
    await testEnv.MODELS.delete("gone/2/model.onnx");
    expect(await servedVersion("/v2/models/gone/infer")).toBe("1");
    await json(await call("/v2/models/gone/versions/2"), 404);
  });

  it("recovers at once when a corrupt upload is replaced by a good one", async () => {
    await testEnv.MODELS.put("fixme/1/model.onnx", "garbage");
    await json(await call("/v2/models/fixme/ready"), 503);
    await publish("iris/1/model.onnx", "fixme/1/model.onnx");
    expect(await json(await call("/v2/models/fixme/ready"))).toEqual({ name: "fixme", ready: true });
  });

  it("answers many concurrent first requests for a cold model", async () => {
    await publish("silero-vad/1/model.onnx", "cold/1/model.onnx");
    const responses = await Promise.all(Array.from({ length: 12 }, () => call("/v2/models/cold")));
    expect(responses.map((r) => r.status)).toEqual(new Array(12).fill(200));
  });
});
