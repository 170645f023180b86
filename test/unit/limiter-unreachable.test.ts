/** What a keyed request gets when the tenant's Durable Object cannot be reached. */
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../src/env";
import { ServingError } from "../../src/errors";
import { IsolateCore } from "../../src/isolate-core";
import { parseSettings } from "../../src/settings";

// Node cannot import onnxruntime's .wasm module as workerd does; nothing here starts onnxruntime.
vi.mock("../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", () => ({ default: {} }));
import { rateLimit } from "../../src/ratelimit/middleware";

function appWith(admit: () => Promise<unknown>) {
  const app = new Hono<AppEnv>();
  const core = new IsolateCore(parseSettings({}));
  app.use("*", async (c, next) => {
    c.set("core", core);
    c.set("caller", { tenant: "t", keyId: "key_1" });
    await next();
  });
  app.use("*", rateLimit());
  app.get("*", (c) => c.json({ ok: true }));
  app.onError((e, c) => c.json({ error: e.message }, e instanceof ServingError ? e.status : 500, e instanceof ServingError ? e.headers : {}));
  const env = (mode: string) =>
    ({
      RATE_LIMIT_FAILURE_MODE: mode,
      RATE_LIMIT_TIMEOUT_MS: "50",
      TENANTS: { idFromName: () => "id", get: () => ({ admit }) },
    }) as unknown as Env;
  return { request: (mode: string) => app.request("/v2/models/iris", {}, env(mode)) };
}

describe("an unreachable rate limiter", () => {
  it("fails closed by default: 503 with Retry-After", async () => {
    const res = await appWith(() => Promise.reject(new Error("network"))).request("closed");
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect(await res.json()).toEqual({ error: "the rate limiter is unreachable; retry shortly" });
  });

  it("never hangs: an object that never answers times out into the same 503", async () => {
    // The answer never comes, so only RATE_LIMIT_TIMEOUT_MS can end the wait.
    const res = await appWith(() => new Promise(() => {})).request("closed");
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("1");
    expect(await res.json()).toEqual({ error: "the rate limiter is unreachable; retry shortly" });
  });

  it("lets requests through unmetered when configured to fail open", async () => {
    const res = await appWith(() => Promise.reject(new Error("network"))).request("open");
    expect(res.status).toBe(200);
    expect(res.headers.get("RateLimit-Limit")).toBeNull();
  });
});
