/**
 * CORS as a browser sees it: a preflight answered without a key for an allowed origin, the
 * headers a page may send and read, an error a page can read, and nothing at all for an origin
 * the setting does not list (vitest.config.ts allows https://app.example and https://second.example).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, callRaw, json, setup } from "./support/helpers";

beforeAll(setup);

const ALLOWED = "https://app.example";
const preflight = (origin: string, path = "/v2/models/iris/infer") =>
  callRaw(path, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,inference-header-content-length" },
  });
const corsHeaders = (res: Response) => [...res.headers.keys()].filter((h) => h.startsWith("access-control-"));
const listed = (value: string | null) => (value ?? "").split(",").map((h) => h.trim().toLowerCase());

describe("a preflight", () => {
  it("is answered for an allowed origin without a key, allowing the protocols' headers", async () => {
    for (const origin of [ALLOWED, "https://second.example"]) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(listed(res.headers.get("access-control-allow-methods"))).toEqual(expect.arrayContaining(["get", "post"]));
      expect(listed(res.headers.get("access-control-allow-headers"))).toEqual(
        expect.arrayContaining(["authorization", "content-type", "inference-header-content-length", "x-model-label", "x-client-id", "x-request-id"]),
      );
      expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("gets no CORS headers from an origin not listed, nor one differing only in scheme or port", async () => {
    for (const origin of ["https://evil.example", "http://app.example", "https://app.example:8443", "null"]) {
      const res = await preflight(origin);
      expect(corsHeaders(res), origin).toEqual([]);
      expect(res.status, origin).not.toBe(204);
    }
  });
});

describe("a cross-origin call", () => {
  it("from an allowed origin shows the page the answer and the headers it needs", async () => {
    const res = await call("/v2/models/iris/infer", {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/json" },
      body: JSON.stringify({ inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }], outputs: [{ name: "label" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const exposed = listed(res.headers.get("access-control-expose-headers"));
    for (const h of ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after", "x-model-version", "x-request-id", "server-timing", "inference-header-content-length"]) {
      expect(exposed).toContain(h);
    }
    // Every exposed header the answer carries is one the page can read.
    for (const h of ["x-model-version", "x-request-id", "ratelimit-remaining"]) expect(res.headers.get(h), h).not.toBeNull();
    expect(res.headers.get("vary")).toMatch(/origin/i);
  });

  it("from an allowed origin lets the page read an error (a 401 without a key)", async () => {
    const res = await callRaw("/v2/models/iris", { headers: { origin: ALLOWED } });
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect((await json<{ error: string }>(res, 401)).error).toMatch(/missing API key/);
  });

  it("from another origin is answered without CORS headers, so the browser hides the answer", async () => {
    const res = await call("/v2/models/iris", { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.get("vary")).toMatch(/origin/i);
  });

  it("without an Origin (not a browser) has no CORS headers", async () => {
    expect(corsHeaders(await call("/v2/models/iris"))).toEqual([]);
  });

});
