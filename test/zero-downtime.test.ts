/** Updates without downtime: bad uploads and bad versions leave the old one serving; in-flight requests finish. */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, call, expectMatchesReference, fixtureBytes, json, post, reference, setup, testEnv, upload, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";
const RETRAINED = "candidates/iris-retrained.onnx";
const byVersion: Record<string, string> = { "1": IRIS, "2": RETRAINED };

describe("updates without downtime", () => {
  it("a corrupt upload is refused and the old version keeps serving", async () => {
    await uploadFixture("zd", 1, IRIS);
    const bytes = new Uint8Array(await fixtureBytes(RETRAINED));
    const res = await upload("zd", 2, bytes.slice(0, bytes.byteLength - 40));
    expect(res.status).toBe(400);
    expect(await testEnv.MODELS.head("zd/2/model.onnx")).toBeNull();
    const out = await json<{ model_version: string }>(await post("/v2/models/zd/infer", { inputs: [irisBatch(2)] }));
    expect(out.model_version).toBe("1");
  });

  it("an update while requests are in flight loses none of them", async () => {
    await uploadFixture("zd-live", 1, IRIS);
    const inputs = [irisBatch(8)];
    const inFlight: Promise<Response>[] = [];
    const fire = (n: number) => {
      for (let i = 0; i < n; i++) inFlight.push(post("/v2/models/zd-live/infer", { inputs }));
    };
    fire(20);
    const publish = upload("zd-live", 2, await fixtureBytes(RETRAINED));
    fire(20);
    expect((await publish).status).toBe(201);
    fire(10);
    const config = adminCall("PUT", "/models/zd-live/config", { default_version: 2, labels: { previous: 1 } });
    fire(20);
    expect((await config).status).toBe(200);
    fire(10);

    const responses = await Promise.all(inFlight);
    const expected = { "1": await reference(IRIS, inputs), "2": await reference(RETRAINED, inputs) };
    const seen = new Set<string>();
    for (const res of responses) {
      const body = await json<{ outputs: JsonTensor[]; model_version: string }>(res);
      expect(res.headers.get("X-Model-Version")).toBe(body.model_version);
      expectMatchesReference(body.outputs, expected[body.model_version as "1" | "2"]);
      seen.add(body.model_version);
    }
    expect(responses).toHaveLength(80);
    expect(seen.has("1")).toBe(true);
    const after = await json<{ model_version: string }>(await post("/v2/models/zd-live/infer", { inputs }));
    expect(after.model_version).toBe("2");
  });

  it("a routed version that fails to load leaves the previous one serving, and reports the failure", async () => {
    await uploadFixture("zd-fb", 1, IRIS);
    const inputs = [irisBatch(4)];
    expect((await json<{ model_version: string }>(await post("/v2/models/zd-fb/infer", { inputs }))).model_version).toBe("1");
    // Bytes written around the admin API (a copy tool, a bad sync): the latest version cannot load.
    const bytes = new Uint8Array(await fixtureBytes(RETRAINED));
    await testEnv.MODELS.put("zd-fb/2/model.onnx", bytes.slice(0, 200));

    const res = await post("/v2/models/zd-fb/infer", { inputs });
    const body = await json<{ outputs: JsonTensor[]; model_version: string }>(res);
    expect(body.model_version).toBe("1");
    expectMatchesReference(body.outputs, await reference(byVersion["1"]!, inputs));
    // Asking for the broken version by number gets the failure, with onnxruntime's reason.
    const direct = await post("/v2/models/zd-fb/versions/2/infer", { inputs });
    expect(direct.status).toBe(503);
    expect(((await direct.json()) as { error: string }).error).toContain("failed to load");
    const described = await json<{ versions: { version: number; isolate_state: string; load_error?: string }[] }>(await adminCall("GET", "/models/zd-fb"));
    expect(described.versions.find((v) => v.version === 2)).toMatchObject({ isolate_state: "failed" });
    expect(described.versions.find((v) => v.version === 2)!.load_error).toContain("failed to load");

    // A config that would route to it is refused whole; the old routing keeps serving.
    const refused = await adminCall("PUT", "/models/zd-fb/config", { default_version: 2 });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toContain("cannot be loaded");
    expect((await testEnv.MODELS.head("zd-fb/config.json"))).toBeNull();
    expect((await call("/v2/models/zd-fb/versions/1/ready")).status).toBe(200);
  });

  it("falls back to the version that was serving, not to whatever newer version happens to be loaded", async () => {
    await uploadFixture("zd-prev", 1, IRIS);
    await uploadFixture("zd-prev", 3, RETRAINED);
    await json(await adminCall("PUT", "/models/zd-prev/config", { default_version: 1, labels: { canary: 3 } }));
    const inputs = [irisBatch(2)];
    expect((await json<{ model_version: string }>(await post("/v2/models/zd-prev/infer", { inputs }))).model_version).toBe("1");
    expect((await json<{ model_version: string }>(await post("/v2/models/zd-prev/infer", { inputs }, { "X-Model-Label": "canary" }))).model_version).toBe("3");
    // Around the admin API: a broken version 2 becomes the default.
    await testEnv.MODELS.put("zd-prev/2/model.onnx", new Uint8Array(await fixtureBytes(RETRAINED)).slice(0, 100));
    await testEnv.MODELS.put("zd-prev/config.json", JSON.stringify({ default_version: 2, labels: { canary: 3 } }));
    expect((await json<{ model_version: string }>(await post("/v2/models/zd-prev/infer", { inputs }))).model_version).toBe("1");
  });
});
