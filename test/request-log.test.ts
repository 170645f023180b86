/** Every request: an id, a Server-Timing header, one JSON log line with no key or payload in it. */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { callRaw, json, post, setup, tenantKey } from "./support/helpers";

beforeAll(setup);
afterEach(() => vi.restoreAllMocks());

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    try {
      const parsed = JSON.parse(String(line)) as Record<string, unknown>;
      if (parsed.event === "request") lines.push(parsed);
    } catch {
      // not a JSON line
    }
  });
  return lines;
}

describe("request ids, Server-Timing and the request log", () => {
  it("echoes a sane X-Request-Id, and makes one up otherwise", async () => {
    const given = await callRaw("/v2/health/live", { headers: { "X-Request-Id": "abc-123.x:y" } });
    expect(given.headers.get("X-Request-Id")).toBe("abc-123.x:y");
    const made = await callRaw("/v2/health/live");
    expect(made.headers.get("X-Request-Id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const insane = await callRaw("/v2/health/live", { headers: { "X-Request-Id": "no spaces <allowed>" } });
    expect(insane.headers.get("X-Request-Id")).not.toBe("no spaces <allowed>");
  });

  it("times the phases of a prediction and logs one line for it, without the key or the data", async () => {
    const key = await tenantKey("logged", { requests_per_minute: 1000 });
    const lines = captureLog();
    const data = [5.123456, 3.5, 1.4, 0.2];
    const res = await callRaw("/v2/models/iris/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "X-Request-Id": "req-42" },
      body: JSON.stringify({ inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data }] }),
    });
    await json(res);
    const timing = res.headers.get("Server-Timing")!;
    for (const phase of ["auth", "ratelimit", "load", "inference", "encode", "total"]) expect(timing).toMatch(new RegExp(`${phase};dur=[0-9.]+`));
    const line = lines.find((l) => l.request_id === "req-42")!;
    expect(line).toMatchObject({ method: "POST", path: "/v2/models/iris/infer", status: 200, tenant: "logged", model: "iris", version: 1 });
    expect(Object.keys(line.ms as object)).toEqual(expect.arrayContaining(["auth", "ratelimit", "inference", "total"]));
    const text = JSON.stringify(lines);
    expect(text).not.toContain(key);
    expect(text).not.toContain("5.123456");
    expect(line.bytes_in).toBeGreaterThan(0);
  });

  it("logs refused requests too, with their status", async () => {
    const lines = captureLog();
    const res = await post("/v2/models/iris/infer", { inputs: [] }, { authorization: "Bearer eik_notarealkeynotarealkeynotarealkeynotareal1", "X-Request-Id": "bad-1" });
    expect(res.status).toBe(401);
    expect(res.headers.get("X-Request-Id")).toBe("bad-1");
    expect(lines.find((l) => l.request_id === "bad-1")).toMatchObject({ status: 401, tenant: null });
    expect(JSON.stringify(lines)).not.toContain("notarealkey");
  });

  it("writes no line with REQUEST_LOG off, and still sets the id and Server-Timing", async () => {
    const lines = captureLog();
    const app = createApp();
    const res = await app.fetch(new Request("https://edge.test/v2/health/live", { headers: { "X-Request-Id": "quiet-1" } }), { ...env, REQUEST_LOG: "off" }, createExecutionContext());
    expect(res.headers.get("X-Request-Id")).toBe("quiet-1");
    expect(res.headers.get("Server-Timing")).toContain("total;dur=");
    expect(lines.find((l) => l.request_id === "quiet-1")).toBeUndefined();
  });

  it("with REQUEST_LOG errors, writes lines for refused and failed requests only", async () => {
    const lines = captureLog();
    const app = createApp();
    const quiet = { ...env, REQUEST_LOG: "errors" };
    const ok = await app.fetch(new Request("https://edge.test/v2/health/live", { headers: { "X-Request-Id": "fine-1" } }), quiet, createExecutionContext());
    expect(ok.status).toBe(200);
    expect(ok.headers.get("Server-Timing")).toContain("total;dur=");
    const refused = await app.fetch(new Request("https://edge.test/v2/models/iris", { headers: { "X-Request-Id": "refused-1" } }), quiet, createExecutionContext());
    expect(refused.status).toBe(401);
    expect(lines.find((l) => l.request_id === "fine-1")).toBeUndefined();
    expect(lines.find((l) => l.request_id === "refused-1")).toMatchObject({ level: "info", status: 401, path: "/v2/models/iris" });
  });
});
