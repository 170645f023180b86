/**
 * Keeps the layering of docs/ARCHITECTURE (shared guide) true: index → app → http →
 * {serving → tensor}; tensor and serving never import Hono; nothing imports http but app;
 * only serving/loader imports onnxruntime-web.
 */
import { describe, expect, it } from "vitest";

const sources = import.meta.glob("../../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

function importsOf(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!);
}

const files = Object.entries(sources).map(([path, text]) => ({ path: path.replace("../../src/", ""), imports: importsOf(text) }));

describe("architecture", () => {
  it("reads the sources", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it("keeps Hono out of tensor/ and serving/", () => {
    const offenders = files.filter((f) => /^(tensor|serving)\//.test(f.path) && f.imports.some((i) => i.startsWith("hono")));
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it("lets only app.ts import http/", () => {
    const offenders = files.filter((f) => f.path !== "app.ts" && !f.path.startsWith("http/") && f.imports.some((i) => i.includes("/http/") || i.startsWith("./http")));
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it("keeps tensor/ free of serving/", () => {
    const offenders = files.filter((f) => f.path.startsWith("tensor/") && f.imports.some((i) => i.includes("serving")));
    expect(offenders.map((f) => f.path)).toEqual([]);
  });

  it("imports onnxruntime-web in serving/loader.ts alone", () => {
    const importers = files.filter((f) => f.imports.some((i) => i.startsWith("onnxruntime-web"))).map((f) => f.path);
    expect(importers).toEqual(["serving/loader.ts"]);
  });
});
