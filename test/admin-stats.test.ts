/** The admin routes the console reads: a model's statistics with its per-minute series, and the tenants' names. */
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, json, post, publish, setup } from "./support/helpers";

beforeAll(setup);

interface StatsBody {
  model: string;
  model_stats: { version: string; outcomes: Record<string, number>; latency_ms: { p99: number | null } }[];
  window: { minutes: number; count: number; errors: number; error_rate: number | null; latency_ms: { p99: number | null } };
  minutes: { at: string; count: number; errors: number; latency_ms: { p50: number | null; p90: number | null; p99: number | null }; by_version: Record<string, { count: number; errors: number }> }[];
}

describe("GET /admin/models/{m}/stats", () => {
  it("gives the totals and this minute's requests and errors, per version", async () => {
    await publish("iris/1/model.onnx", "stats-series/1/model.onnx");
    const row = { name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] };
    for (let i = 0; i < 3; i++) expect((await post("/v2/models/stats-series/infer", { inputs: [row] })).status).toBe(200);
    expect((await post("/v2/models/stats-series/infer", { inputs: [{ ...row, name: "nope" }] })).status).toBe(400);

    const body = await json<StatsBody>(await adminCall("GET", "/models/stats-series/stats?minutes=5"));
    expect(body.model).toBe("stats-series");
    expect(body.model_stats[0]!.outcomes).toEqual({ success: 3, client_error: 1 });
    expect(body.window).toMatchObject({ minutes: 5, count: 4, errors: 1, error_rate: 0.25 });
    expect(body.window.latency_ms.p99).not.toBeNull();
    const counted = body.minutes;
    expect(counted.reduce((n, m) => n + (m.by_version["1"]?.count ?? 0), 0)).toBe(4);
    expect(counted.reduce((n, m) => n + m.errors, 0)).toBe(1);
    expect(counted[0]!.latency_ms.p99).not.toBeNull();
    expect(Date.parse(counted[0]!.at) % 60_000).toBe(0);
  });

  it("refuses a window outside a day of minutes", async () => {
    for (const q of ["0", "1441", "x"]) expect((await adminCall("GET", `/models/iris/stats?minutes=${q}`)).status).toBe(400);
  });
});

describe("GET /admin/models/{m}/drift, for charts", () => {
  it("gives each tensor's histograms and its score per hourly window", async () => {
    await publish("iris/1/model.onnx", "drift-series/1/model.onnx");
    const send = (data: number[]) => post("/v2/models/drift-series/infer", { inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data }] });
    for (let i = 0; i < 3; i++) expect((await send([5.1, 3.5, 1.4, 0.2])).status).toBe(200);
    await json(await adminCall("POST", "/models/drift-series/drift/baseline?version=1"));
    for (let i = 0; i < 3; i++) expect((await send([50, 30, 60, 20])).status).toBe(200);

    type View = { count: number; histogram: { le: (number | string)[]; counts: number[] } };
    const body = await json<{ versions: { tensors: { tensor: string; baseline: View; current: View; drift_score: number; hourly: { at: string; count: number; drift_score: number }[] }[] }[] }>(
      await adminCall("GET", "/models/drift-series/drift?hours=2"),
    );
    const features = body.versions[0]!.tensors.find((t) => t.tensor === "features")!;
    for (const view of [features.baseline, features.current]) {
      expect(view.histogram.le.at(-1)).toBe("+Inf");
      expect(view.histogram.counts).toHaveLength(view.histogram.le.length);
      expect(view.histogram.counts.reduce((a, b) => a + b, 0)).toBe(view.count);
    }
    expect(features.hourly.reduce((n, h) => n + h.count, 0)).toBe(features.current.count);
    expect(features.hourly.at(-1)!.drift_score).toBeGreaterThan(0.25);
    expect(Date.parse(features.hourly.at(-1)!.at) % 3_600_000).toBe(0);
  });
});

describe("GET /admin/tenants", () => {
  it("lists every tenant put, once", async () => {
    await json(await adminCall("PUT", "/tenants/listed-a", { requests_per_minute: 10 }), 201);
    await json(await adminCall("PUT", "/tenants/listed-a", { requests_per_minute: 20 }), 200);
    await json(await adminCall("PUT", "/tenants/listed-b", { requests_per_minute: 10 }), 201);
    const { tenants } = await json<{ tenants: string[] }>(await adminCall("GET", "/tenants"));
    expect(tenants.filter((t) => t.startsWith("listed-"))).toEqual(["listed-a", "listed-b"]);
  });
});
