import { describe, expect, it } from "vitest";
import { ServingError } from "../../src/errors";
import type { ModelSnapshot } from "../../src/serving/repository";
import { labelsOf, resolveVersion, routedVersions } from "../../src/serving/router";

const snapshot = (versions: number[], config: ModelSnapshot["config"] = {}, configError?: string): ModelSnapshot => ({
  name: "m",
  versions: versions.map((version) => ({ version, etag: `e${version}`, size: 1, uploaded: new Date(0) })),
  config,
  ...(configError ? { configError } : {}),
});

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as ServingError).status;
  }
  return 200;
};

describe("resolveVersion: explicit version > label > default_version > latest", () => {
  const s = snapshot([1, 2, 10], { default_version: 2, labels: { stable: 1, canary: 10 } });

  it("takes each source in order", () => {
    expect(resolveVersion(s, { kind: "version", version: 10 }).version).toBe(10);
    expect(resolveVersion(s, { kind: "label", label: "stable" }).version).toBe(1);
    expect(resolveVersion(s, { kind: "default" }).version).toBe(2);
    expect(resolveVersion(snapshot([1, 2, 10]), { kind: "default" }).version).toBe(10);
  });

  it("404s an unknown version or label; 503s a config pointing nowhere or unusable", () => {
    expect(code(() => resolveVersion(s, { kind: "version", version: 3 }))).toBe(404);
    expect(code(() => resolveVersion(s, { kind: "label", label: "beta" }))).toBe(404);
    expect(code(() => resolveVersion(snapshot([1], { labels: { x: 4 } }), { kind: "label", label: "x" }))).toBe(503);
    expect(code(() => resolveVersion(snapshot([1], { default_version: 4 }), { kind: "default" }))).toBe(503);
    expect(code(() => resolveVersion(snapshot([1], {}, "broken"), { kind: "default" }))).toBe(503);
  });

  it("looks labels up as the config's own keys: a member every object inherits is no label", () => {
    for (const label of ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"]) {
      expect(code(() => resolveVersion(s, { kind: "label", label })), label).toBe(404);
    }
    expect(resolveVersion(snapshot([1, 2], { labels: { constructor: 2 } }), { kind: "label", label: "constructor" }).version).toBe(2);
  });

  it("lists the labels of a version", () => {
    expect(labelsOf(s, 10)).toEqual(["canary"]);
    expect(labelsOf(s, 2)).toEqual([]);
  });
});

describe("routedVersions", () => {
  const versions = (s: ModelSnapshot) => routedVersions(s).map((e) => e.version);
  it("is the split's weighted versions, else the default, else the latest", () => {
    expect(versions(snapshot([1, 2, 3], { traffic: { "1": 90, "2": 10, "3": 0 }, default_version: 3 }))).toEqual([1, 2]);
    expect(versions(snapshot([1, 2, 3], { default_version: 2, labels: { canary: 3 } }))).toEqual([2]);
    expect(versions(snapshot([1, 2, 3]))).toEqual([3]);
    expect(versions(snapshot([1], { default_version: 7 }))).toEqual([]);
  });
});
