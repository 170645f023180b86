import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, callRaw, json, setup, testEnv } from "./support/helpers";

beforeAll(setup);

async function expectAdminError(res: Response, status: number, code: string, ...mentions: string[]): Promise<void> {
  const body = await json<{ error: string; code: string }>(res, status);
  expect(Object.keys(body).sort()).toEqual(["code", "error"]);
  expect(body.code).toBe(code);
  for (const m of mentions) expect(body.error).toContain(m);
}

describe("tenants", () => {
  it("are created (201), updated (200) and read back with defaults filled in", async () => {
    const created = await json(await adminCall("PUT", "/tenants/acme", { requests_per_minute: 120 }), 201);
    expect(created).toMatchObject({ tenant: "acme", policy: { requests_per_minute: 120, burst: 120, daily_quota: null, models: "*" } });
    await json(await adminCall("PUT", "/tenants/acme", { requests_per_minute: 60, burst: 5, daily_quota: 1000, models: ["iris"] }), 200);
    const read = await json(await adminCall("GET", "/tenants/acme"));
    expect(read).toMatchObject({ tenant: "acme", policy: { requests_per_minute: 60, burst: 5, daily_quota: 1000, models: ["iris"] } });
  });

  it("refuse bad policies naming the field, and store nothing", async () => {
    const cases: [unknown, string][] = [
      [{}, "requests_per_minute"],
      [{ requests_per_minute: "60" }, "requests_per_minute"],
      [{ requests_per_minute: 0 }, "requests_per_minute"],
      [{ requests_per_minute: -5 }, "requests_per_minute"],
      [{ requests_per_minute: 1.5 }, "requests_per_minute"],
      [{ requests_per_minute: 10, burst: 0 }, "burst"],
      [{ requests_per_minute: 10, daily_quota: -1 }, "daily_quota"],
      [{ requests_per_minute: 10, models: "iris" }, "models"],
      [{ requests_per_minute: 10, models: ["../x"] }, "models[0]"],
      [{ requests_per_minute: 10, colour: "red" }, "colour"],
      [[1, 2], "tenant policy"],
    ];
    for (const [body, field] of cases) {
      await expectAdminError(await adminCall("PUT", "/tenants/never", body), 400, "invalid_argument", field);
    }
    await expectAdminError(await adminCall("PUT", "/tenants/never", "{not json"), 400, "invalid_argument", "not valid JSON");
    await expectAdminError(await adminCall("GET", "/tenants/never"), 404, "not_found", "tenant 'never' not found");
  });

  it("refuse invalid tenant names and unknown tenants", async () => {
    await expectAdminError(await adminCall("PUT", "/tenants/-bad", { requests_per_minute: 1 }), 400, "invalid_argument", "tenant name");
    await expectAdminError(await adminCall("GET", `/tenants/${"x".repeat(65)}`), 400, "invalid_argument", "tenant name");
    for (const path of ["/tenants/ghost", "/tenants/ghost/keys", "/tenants/ghost/usage"]) {
      await expectAdminError(await adminCall("GET", path), 404, "not_found", "ghost");
    }
    await expectAdminError(await adminCall("POST", "/tenants/ghost/keys", {}), 404, "not_found", "ghost");
    await expectAdminError(await adminCall("GET", "/nothing"), 404, "not_found", "no route");
  });
});

describe("keys", () => {
  it("are shown once, stored only as a SHA-256 hash, and listed without secrets", async () => {
    await adminCall("PUT", "/tenants/keyed", { requests_per_minute: 100 });
    const created = await json<{ id: string; key: string; prefix: string; status: string; tenant: string; expires_at: null }>(
      await adminCall("POST", "/tenants/keyed/keys", { name: "ci" }),
      201,
    );
    expect(created.key).toMatch(/^eik_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ tenant: "keyed", status: "active", expires_at: null, name: "ci" });
    expect(created.key.startsWith(created.prefix)).toBe(true);

    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(created.key));
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(await testEnv.API_KEYS.get(`key:${hash}`, "json")).toEqual({ tenant: "keyed", key_id: created.id, expires_at: null });
    const all = await testEnv.API_KEYS.list();
    for (const k of all.keys) {
      expect(k.name).not.toContain(created.key);
      expect(await testEnv.API_KEYS.get(k.name)).not.toContain(created.key);
    }

    const listed = await json<{ keys: Record<string, unknown>[] }>(await adminCall("GET", "/tenants/keyed/keys"));
    expect(listed.keys).toHaveLength(1);
    expect(Object.keys(listed.keys[0]!).sort()).toEqual(["created_at", "expires_at", "id", "name", "prefix", "revoked_at", "status"]);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(JSON.stringify(listed)).not.toContain(hash);
  });

  it("rotate without downtime: old and new both work until the old is revoked", async () => {
    // Exact admission: the revocation is seen by the very next request (leased: within LEASE_MS).
    await adminCall("PUT", "/tenants/rotating", { requests_per_minute: 1000, admission: "exact" });
    const make = async () => json<{ id: string; key: string }>(await adminCall("POST", "/tenants/rotating/keys"), 201);
    const old = await make();
    const fresh = await make();
    const status = (key: string) => callRaw("/v2/models/iris", { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    expect([await status(old.key), await status(fresh.key)]).toEqual([200, 200]);
    const revoked = await json<{ status: string; revoked_at: string }>(await adminCall("DELETE", `/tenants/rotating/keys/${old.id}`));
    expect(revoked.status).toBe("revoked");
    expect([await status(old.key), await status(fresh.key)]).toEqual([401, 200]);
    expect(await json(await adminCall("DELETE", `/tenants/rotating/keys/${old.id}`))).toMatchObject({ revoked_at: revoked.revoked_at });
  });

  it("expire", async () => {
    await adminCall("PUT", "/tenants/expiring", { requests_per_minute: 1000 });
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const a = await json<{ expires_at: string }>(await adminCall("POST", "/tenants/expiring/keys", { expires_at: soon }), 201);
    expect(a.expires_at).toBe(soon);
    const b = await json<{ expires_at: string }>(await adminCall("POST", "/tenants/expiring/keys", { expires_in_seconds: 60 }), 201);
    expect(Date.parse(b.expires_at) - Date.now()).toBeGreaterThan(50_000);
  });

  it("refuse bad key requests and unknown keys", async () => {
    await adminCall("PUT", "/tenants/picky", { requests_per_minute: 10 });
    const past = new Date(Date.now() - 1000).toISOString();
    await expectAdminError(await adminCall("POST", "/tenants/picky/keys", { expires_at: past }), 400, "invalid_argument", "future");
    await expectAdminError(await adminCall("POST", "/tenants/picky/keys", { expires_at: "tomorrow" }), 400, "invalid_argument", "expires_at");
    await expectAdminError(await adminCall("POST", "/tenants/picky/keys", { expires_in_seconds: 0 }), 400, "invalid_argument", "expires_in_seconds");
    await expectAdminError(await adminCall("POST", "/tenants/picky/keys", { secret: "x" }), 400, "invalid_argument", "secret");
    await expectAdminError(await adminCall("DELETE", "/tenants/picky/keys/key_0123456789abcdef"), 404, "not_found", "key");
    await expectAdminError(await adminCall("DELETE", "/tenants/picky/keys/nonsense"), 404, "not_found", "key");
    const keys = await json<{ keys: unknown[] }>(await adminCall("GET", "/tenants/picky/keys"));
    expect(keys.keys).toEqual([]);
  });
});
