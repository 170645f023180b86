import { describe, expect, it } from "vitest";
import { TtlCache } from "../../src/ttl-cache";

describe("TtlCache: the staleness bound on a model's version list", () => {
  it("reuses a value until its time-to-live passes, then loads again", async () => {
    let now = 0;
    let loads = 0;
    const cache = new TtlCache<number>(10, () => now);
    const load = async () => ++loads;
    expect(await cache.get("m", 10_000, load)).toBe(1);
    now = 9_999;
    expect(await cache.get("m", 10_000, load)).toBe(1);
    now = 10_000;
    expect(await cache.get("m", 10_000, load)).toBe(2);
  });

  it("shares one load between concurrent callers", async () => {
    let loads = 0;
    const cache = new TtlCache<number>();
    const results = await Promise.all(Array.from({ length: 5 }, () => cache.get("m", 1000, async () => ++loads)));
    expect(results).toEqual([1, 1, 1, 1, 1]);
  });

  it("does not keep a failed load", async () => {
    const cache = new TtlCache<number>();
    await expect(cache.get("m", 1000, async () => Promise.reject(new Error("r2 down")))).rejects.toThrow("r2 down");
    expect(await cache.get("m", 1000, async () => 7)).toBe(7);
  });

  it("holds at most maxEntries", async () => {
    let loads = 0;
    const cache = new TtlCache<number>(2);
    for (const k of ["a", "b", "c"]) await cache.get(k, 1000, async () => ++loads);
    await cache.get("a", 1000, async () => ++loads);
    expect(loads).toBe(4);
  });
});
