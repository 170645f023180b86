/**
 * The shared security suite: every route of the real app, found by walking its route table, is
 * sent through no key, a malformed header, an unknown key, a revoked key, an expired key, a model
 * outside the tenant's list, a tenant key on admin routes and a wrong admin token. A new route
 * that forgets auth fails here without anyone adding it to a list.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { findTargetHandler } from "hono/utils/handler";
import { createApp, PUBLIC_PATHS } from "../src/app";
import { ADMIN_TOKEN, adminCall, callRaw, json, setup, tenantKey } from "./support/helpers";

const MIDDLEWARE = new Set(["except", "apiKeyAuthHandler", "rateLimitHandler", "adminAuthHandler", "describeRoute"]);
const PUBLIC = new Set<string>(["GET /", ...PUBLIC_PATHS.map((p) => `GET ${p}`)]);

interface Probe {
  method: string;
  path: string;
  kind: "public" | "protocol" | "admin";
}

/** One concrete request per endpoint (two for a route taking any method). */
function probes(): Probe[] {
  const out: Probe[] = [];
  for (const route of createApp().routes) {
    if (route.path === "/*" || route.path === "*" || MIDDLEWARE.has(findTargetHandler(route.handler).name)) continue;
    const methods = route.method === "ALL" ? ["GET", "POST"] : [route.method];
    for (const method of methods) {
      const path = route.path
        .replace(/:model(_name)?/, "iris").replace(/:(model_)?version/, "1").replace(":tenant", "tests").replace(":id", "key_0000000000000000")
        .replace("/*", method === "POST" ? "/iris:predict" : "/iris");
      const kind = PUBLIC.has(`${method} ${route.path}`) ? "public" : path.startsWith("/admin/") || path === "/metrics" ? "admin" : /^\/v[12](\/|$)/.test(path) ? "protocol" : undefined;
      if (!kind) throw new Error(`route ${method} ${route.path} is neither public, a protocol route nor an admin route`);
      out.push({ method, path, kind });
    }
  }
  return out;
}

const ALL = probes();
const PROTOCOL = ALL.filter((p) => p.kind === "protocol");
const ADMIN = ALL.filter((p) => p.kind === "admin");
const send = (p: Probe, authorization?: string) =>
  callRaw(p.path, {
    method: p.method,
    headers: { "content-type": "application/json", ...(authorization !== undefined ? { authorization } : {}) },
    body: p.method === "GET" || p.method === "DELETE" ? undefined : "{}",
  });

async function expect401(res: Response, p: Probe, shape: string[]): Promise<void> {
  const body = await json<Record<string, unknown>>(res, 401).catch((e) => {
    throw new Error(`${p.method} ${p.path}: ${(e as Error).message}`);
  });
  expect(Object.keys(body).sort(), `${p.method} ${p.path}`).toEqual(shape);
  expect(res.headers.get("WWW-Authenticate"), `${p.method} ${p.path}`).toMatch(/^Bearer /);
}

let keys: { valid: string; revoked: string; expired: string; restricted: string };

beforeAll(async () => {
  await setup();
  const valid = await tenantKey("sec", { requests_per_minute: 100_000 });
  const revoked = await tenantKey("sec", { requests_per_minute: 100_000 });
  const expired = await tenantKey("sec", { requests_per_minute: 100_000 }, { expires_in_seconds: 1 });
  const restricted = await tenantKey("narrow", { requests_per_minute: 100_000, models: ["silero-vad"] });
  const list = await json<{ keys: { id: string; prefix: string }[] }>(await adminCall("GET", "/tenants/sec/keys"));
  const revokedId = list.keys.find((k) => revoked.startsWith(k.prefix) && k.prefix.length > 4)!.id;
  await json(await adminCall("DELETE", `/tenants/sec/keys/${revokedId}`));
  keys = { valid, revoked, expired, restricted };
  await new Promise((r) => setTimeout(r, 1100)); // let the 1-second key expire
});

describe("the route table", () => {
  it("has protocol, admin and public routes to probe", () => {
    expect(PROTOCOL.length).toBeGreaterThanOrEqual(9);
    expect(ADMIN.length).toBeGreaterThanOrEqual(6);
    expect(ALL.filter((p) => p.kind === "public").map((p) => p.path).sort()).toEqual(["/", "/openapi.json", "/v2/health/live", "/v2/health/ready"]);
  });

  it("answers public routes without a key", async () => {
    for (const p of ALL.filter((x) => x.kind === "public")) expect((await send(p)).status, p.path).toBe(200);
  });
});

describe.each([
  ["no key", () => undefined],
  ["an empty header", () => ""],
  ["a Basic header", () => "Basic dXNlcjpwYXNz"],
  ["'Bearer' alone", () => "Bearer"],
  ["two tokens", () => `Bearer ${keys.valid} extra`],
  ["a right-prefix key of the wrong length", () => `Bearer ${keys.valid.slice(0, -1)}`],
  ["an unknown key", () => `Bearer eik_${"A".repeat(43)}`],
  ["a revoked key", () => `Bearer ${keys.revoked}`],
  ["an expired key", () => `Bearer ${keys.expired}`],
  ["the admin token", () => `Bearer ${ADMIN_TOKEN}`],
  ["a 10 kB header", () => `Bearer eik_${"x".repeat(10_000)}`],
])("every protocol route refuses %s with 401", (_, auth) => {
  it("in the protocol's error shape", async () => {
    for (const p of PROTOCOL) await expect401(await send(p, auth()), p, ["error"]);
  });
});

describe.each([
  ["no token", () => undefined],
  ["a malformed header", () => "Token abc"],
  ["a wrong admin token", () => `Bearer ${ADMIN_TOKEN}x`],
  ["a tenant key", () => `Bearer ${keys.valid}`],
])("every admin route refuses %s with 401", (_, auth) => {
  it("as {error, code}", async () => {
    for (const p of ADMIN) await expect401(await send(p, auth()), p, ["code", "error"]);
  });
});

describe("CORS on every route", () => {
  const preflight = (p: Probe, origin: string) =>
    callRaw(p.path, { method: "OPTIONS", headers: { origin, "access-control-request-method": p.method, "access-control-request-headers": "authorization" } });

  it("answers a preflight from an allowed origin without a key, and none from another origin", async () => {
    for (const p of ALL) {
      const allowed = await preflight(p, "https://app.example");
      expect(allowed.status, `${p.method} ${p.path}`).toBe(204);
      expect(allowed.headers.get("access-control-allow-origin"), `${p.method} ${p.path}`).toBe("https://app.example");
      const other = await preflight(p, "https://evil.example");
      expect([...other.headers.keys()].filter((h) => h.startsWith("access-control-")), `${p.method} ${p.path}`).toEqual([]);
    }
  });

  it("still asks an allowed origin's real requests for a key", async () => {
    for (const p of [...PROTOCOL, ...ADMIN]) {
      const res = await callRaw(p.path, { method: p.method, headers: { origin: "https://app.example" } });
      expect(res.status, `${p.method} ${p.path}`).toBe(401);
      expect(res.headers.get("access-control-allow-origin"), `${p.method} ${p.path}`).toBe("https://app.example");
    }
  });
});

describe("odd headers", () => {
  it("refuses a non-ASCII Authorization header with 401 (once: workerd warns about each)", async () => {
    await expect401(await send(PROTOCOL[0]!, `Bearer eik_é${"a".repeat(42)}`), PROTOCOL[0]!, ["error"]);
  });
});

describe("keys that work", () => {
  it("open every protocol route (whatever the route then says)", async () => {
    for (const p of PROTOCOL) expect((await send(p, `Bearer ${keys.valid}`)).status, `${p.method} ${p.path}`).not.toBe(401);
  });

  it("hide a model outside the tenant's list as 404, and serve the ones in it", async () => {
    for (const p of PROTOCOL.filter((x) => x.path.includes("/models/iris"))) {
      const res = await send(p, `Bearer ${keys.restricted}`);
      expect(res.status, `${p.method} ${p.path}`).toBe(404);
      expect(await res.text()).toMatch("model 'iris' not found");
    }
    expect((await callRaw("/v2/models/silero-vad", { headers: { authorization: `Bearer ${keys.restricted}` } })).status).toBe(200);
  });
});

describe("secrets never reach the logs", () => {
  it("logs no key and no admin token while serving, refusing and administering", async () => {
    const lines: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" "))),
    );
    try {
      for (const p of PROTOCOL) await send(p, `Bearer ${keys.valid}`);
      for (const p of PROTOCOL) await send(p, `Bearer ${keys.revoked}`);
      for (const p of ADMIN) await send(p, `Bearer ${ADMIN_TOKEN}`);
      await callRaw("/v2/models/iris/infer", { method: "POST", headers: { authorization: `Bearer ${keys.valid}` }, body: "{oops" });
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const text = lines.join("\n");
    for (const secret of [keys.valid, keys.revoked, keys.expired, ADMIN_TOKEN]) expect(text).not.toContain(secret);
  });
});
