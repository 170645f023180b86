import { describe, expect, it } from "vitest";
import { emptyHistogram, observe, outcomeOf, quantile } from "../../src/monitoring/histogram";
import { StatsBuffer } from "../../src/monitoring/stats-buffer";

describe("histograms", () => {
  it("estimate quantiles within the bucket they fall in", () => {
    const h = emptyHistogram();
    for (let i = 1; i <= 100; i++) observe(h, i < 90 ? 3 : 400);
    expect(h.count).toBe(100);
    expect(quantile(h, 0.5)).toBeGreaterThan(2);
    expect(quantile(h, 0.5)).toBeLessThanOrEqual(5);
    expect(quantile(h, 0.99)).toBeGreaterThan(250);
    expect(quantile(h, 0.99)).toBeLessThanOrEqual(500);
    expect(quantile(emptyHistogram(), 0.5)).toBeNull();
    observe(h, 1e9);
    expect(h.counts.at(-1)).toBe(1);
  });

  it("name outcomes by status", () => {
    expect([200, 400, 404, 408, 429, 499, 503, 500].map(outcomeOf)).toEqual(["success", "client_error", "client_error", "client_timeout", "rate_limited", "client_abort", "unavailable", "server_error"]);
  });
});

describe("the isolate's statistics buffer", () => {
  it("hands out deltas once per interval and takes a failed flush back, merged", () => {
    const b = new StatsBuffer();
    b.request("m", 1, "t", "success", 3, 1);
    b.request("m", 1, "t", "success", 7, 2);
    b.load("m", 1, false);
    const first = b.take(1000, 500)!;
    expect(first.get("m")!.requests[0]).toMatchObject({ count: 2 });
    expect(b.take(1200, 500)).toBeNull(); // nothing new, and too soon
    b.request("m", 1, "t", "success", 5, 1);
    expect(b.take(1200, 500)).toBeNull(); // too soon
    b.putBack("m", first.get("m")!);
    const second = b.take(1600, 500)!;
    expect(second.get("m")!.requests[0]).toMatchObject({ count: 3 });
    expect(second.get("m")!.requests[0]!.latency.sum).toBe(15);
    expect(second.get("m")!.loads).toEqual([{ version: 1, cold: 1, failed: 0 }]);
    expect(b.empty).toBe(true);
  });
});

describe("drift summaries", async () => {
  const { emptySummary, summarise, psi, moments } = await import("../../src/monitoring/drift");
  it("sample large tensors, read FP16 and INT64, and score identical traffic 0", () => {
    const big = emptySummary();
    summarise(big, { name: "x", datatype: "FP32", shape: [100_000], data: new Float32Array(100_000).fill(2) });
    expect(big.count).toBeLessThanOrEqual(1024);
    expect(moments(big)).toEqual({ mean: 2, sd: 0 });
    const half = emptySummary();
    summarise(half, { name: "h", datatype: "FP16", shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) }); // 1, -2
    expect([half.min, half.max]).toEqual([-2, 1]);
    const ints = emptySummary();
    summarise(ints, { name: "i", datatype: "INT64", shape: [2], data: BigInt64Array.from([3n, 5n]) });
    expect(moments(ints).mean).toBe(4);
    expect(psi(big, big)).toBe(0);
    const strings = emptySummary();
    summarise(strings, { name: "s", datatype: "BYTES", shape: [1], data: ["a"] });
    expect(strings.count).toBe(0);
  });
});

describe("Analytics Engine data points", async () => {
  const { analyticsPoint } = await import("../../src/monitoring/analytics");
  it("index by model and carry the request's figures", () => {
    const point = analyticsPoint({ model: "iris", version: 2, tenant: "acme", outcome: "success", status: 200, ms: { total: 4.5, inference: 0.2 }, bytesIn: 89 });
    expect(point).toEqual({ indexes: ["iris"], blobs: ["iris", "2", "acme", "success"], doubles: [4.5, 0.2, 200, 89] });
  });
});
