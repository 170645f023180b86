/** Shadow traffic: mirrored after the response, compared, recorded; never seen by the caller. */
import { beforeAll, describe, expect, it } from "vitest";
import { ABS_TOLERANCE, REL_TOLERANCE } from "../src/serving/shadow";
import { adminCall, eventually, expectMatchesReference, json, post, reference, setup, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const IRIS = "iris/1/model.onnx";
const RETRAINED = "candidates/iris-retrained.onnx";

interface PairStats {
  primary_version: number;
  shadow_version: number;
  mirrored: number;
  compared: number;
  agreed: number;
  errors: number;
  max_abs_diff: number | null;
  shadow_ms: { mean: number | null };
  last_error: string | null;
}

const shadowStats = async (model: string) => (await json<{ stats: PairStats[] }>(await adminCall("GET", `/models/${model}/shadow`))).stats;
const waitForMirrored = (model: string, n: number) =>
  eventually(async () => {
    const stats = await shadowStats(model);
    return stats[0] && stats[0].mirrored >= n ? stats[0] : undefined;
  }, `${n} mirrored requests`);

/** Whether two reference outputs agree by the service's own tolerance. */
function referencesAgree(a: JsonTensor[], b: JsonTensor[]): boolean {
  return a.every((t, i) =>
    t.data.every((v, j) => {
      const w = b[i]!.data[j];
      return typeof v === "number" ? Math.abs(v - (w as number)) <= ABS_TOLERANCE + REL_TOLERANCE * Math.abs(v) : String(v) === String(w);
    }),
  );
}

describe("shadow traffic", () => {
  it("never changes a response, and records agreement and latency readable from the admin API", async () => {
    await uploadFixture("sh", 1, IRIS);
    await uploadFixture("sh", 2, RETRAINED);
    await json(await adminCall("PUT", "/models/sh/config", { default_version: 1, shadow: { version: 2, percent: 100 } }));

    const samples = [1, 2, 3, 4, 5, 6].map((n) => [irisBatch(n * 20)]);
    let expectedAgreed = 0;
    for (const inputs of samples) {
      const res = await post("/v2/models/sh/infer", { inputs });
      expect(res.headers.get("X-Model-Version")).toBe("1");
      const body = await json<{ outputs: JsonTensor[]; model_version: string }>(res);
      expect(body.model_version).toBe("1");
      const primary = await reference(IRIS, inputs);
      expectMatchesReference(body.outputs, primary);
      if (referencesAgree(primary, await reference(RETRAINED, inputs))) expectedAgreed++;
    }
    const stats = await waitForMirrored("sh", samples.length);
    expect(stats).toMatchObject({ primary_version: 1, shadow_version: 2, mirrored: 6, compared: 6, agreed: expectedAgreed, errors: 0 });
    expect(stats.max_abs_diff).toBeGreaterThan(0);
    expect(stats.shadow_ms.mean).toBeGreaterThanOrEqual(0);
    // The model's description carries the same figures.
    const described = await json<{ shadow_stats: PairStats[] }>(await adminCall("GET", "/models/sh"));
    expect(described.shadow_stats[0]!.mirrored).toBe(6);
  });

  it("records a shadow that cannot run the request as an error, and the caller still gets the primary's answer", async () => {
    await uploadFixture("sh-bad", 1, IRIS);
    await uploadFixture("sh-bad", 2, "dtypes/1/model.onnx"); // different inputs: cannot run iris requests
    await json(await adminCall("PUT", "/models/sh-bad/config", { default_version: 1, shadow: { version: 2, percent: 100 } }));
    const inputs = [irisBatch(3)];
    for (let i = 0; i < 3; i++) {
      const body = await json<{ outputs: JsonTensor[]; model_version: string }>(await post("/v2/models/sh-bad/infer", { inputs }));
      expect(body.model_version).toBe("1");
      expectMatchesReference(body.outputs, await reference(IRIS, inputs));
    }
    const tf = await json<{ predictions: unknown[] }>(await post("/v1/models/sh-bad:predict", { instances: [[5.1, 3.5, 1.4, 0.2]] }));
    expect(tf.predictions).toHaveLength(1);
    const stats = await waitForMirrored("sh-bad", 4);
    expect(stats).toMatchObject({ mirrored: 4, compared: 0, agreed: 0, errors: 4 });
    expect(stats.last_error).toContain("input");
  });

  it("mirrors only the configured share and never the shadow's own requests", async () => {
    await uploadFixture("sh-share", 1, IRIS);
    await uploadFixture("sh-share", 2, IRIS);
    await json(await adminCall("PUT", "/models/sh-share/config", { default_version: 1, shadow: { version: 2, percent: 0 } }));
    for (let i = 0; i < 5; i++) await json(await post("/v2/models/sh-share/infer", { inputs: [irisBatch(1)] }));
    await json(await adminCall("PUT", "/models/sh-share/config", { default_version: 1, shadow: { version: 2, percent: 100 } }));
    await json(await post("/v2/models/sh-share/versions/2/infer", { inputs: [irisBatch(1)] })); // the shadow itself answers
    await json(await post("/v2/models/sh-share/infer", { inputs: [irisBatch(1)] }));
    const stats = await waitForMirrored("sh-share", 1);
    await new Promise((r) => setTimeout(r, 300));
    expect((await shadowStats("sh-share"))[0]).toMatchObject({ mirrored: 1, compared: 1, agreed: 1, max_abs_diff: 0 });
    expect(stats.primary_version).toBe(1);
    const reset = await json<{ reset: number }>(await adminCall("DELETE", "/models/sh-share/shadow"));
    expect(reset.reset).toBe(1);
    expect(await shadowStats("sh-share")).toEqual([]);
  });
});
