import { describe, expect, it } from "vitest";
import { parseModelConfig } from "../../src/serving/config";
import type { ModelSnapshot } from "../../src/serving/repository";
import { resolveVersion, splitVersion } from "../../src/serving/router";

function shares(traffic: Record<string, number>, callers = 10_000): Record<number, number> {
  const counts: Record<number, number> = {};
  for (let i = 0; i < callers; i++) {
    const v = splitVersion(traffic, `model\u0000tenant-${i % 50}\u0000client-${i}`);
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([v, n]) => [Number(v), (100 * n) / callers]));
}

describe("traffic splits", () => {
  it.each([
    [{ "1": 90, "2": 10 }],
    [{ "1": 50, "2": 50 }],
    [{ "3": 33, "7": 33, "9": 34 }],
    [{ "1": 1, "2": 99 }],
  ])("give each version its weight within ±2 points over 10,000 callers: %o", (traffic) => {
    const got = shares(traffic);
    for (const [v, w] of Object.entries(traffic)) expect(Math.abs((got[Number(v)] ?? 0) - w), `version ${v}`).toBeLessThanOrEqual(2);
  });

  it("never send traffic to a version of weight 0", () => {
    expect(Object.keys(shares({ "1": 0, "2": 100 }))).toEqual(["2"]);
  });

  it("are sticky: a caller gets the same version while the split is unchanged", () => {
    const traffic = { "1": 50, "2": 50 };
    for (let i = 0; i < 200; i++) {
      const caller = `m\u0000t\u0000client-${i}`;
      const first = splitVersion(traffic, caller);
      for (let j = 0; j < 5; j++) expect(splitVersion(traffic, caller)).toBe(first);
    }
  });

  it("move only the callers they must when weights shift", () => {
    const callers = Array.from({ length: 2000 }, (_, i) => `m\u0000t\u0000c${i}`);
    const before = callers.map((c) => splitVersion({ "1": 90, "2": 10 }, c));
    const after = callers.map((c) => splitVersion({ "1": 80, "2": 20 }, c));
    expect(before.every((v, i) => v === 1 || after[i] === 2)).toBe(true); // canary callers stay on the canary
  });

  it("come after explicit versions and labels, before default_version", () => {
    const snapshot: ModelSnapshot = {
      name: "m",
      versions: [1, 2, 3].map((version) => ({ version, etag: "e", size: 1, uploaded: new Date(0) })),
      config: { default_version: 3, labels: { stable: 1 }, traffic: { "2": 100 } },
    };
    expect(resolveVersion(snapshot, { kind: "version", version: 3 }).version).toBe(3);
    expect(resolveVersion(snapshot, { kind: "label", label: "stable" }).version).toBe(1);
    expect(resolveVersion(snapshot, { kind: "default", caller: "x" }).version).toBe(2);
  });

  it("must have weights summing to 100 and versions as keys", () => {
    expect(parseModelConfig(JSON.stringify({ traffic: { "1": 50, "2": 40 } }))).toEqual({ error: expect.stringContaining("sum to 100") });
    expect(parseModelConfig(JSON.stringify({ traffic: { v1: 100 } }))).toEqual({ error: expect.stringContaining("traffic") });
    expect(parseModelConfig(JSON.stringify({ traffic: { "1": 100 } }))).toEqual({ config: { traffic: { "1": 100 } } });
  });
});
