/** The rate limiter with exact admission (every request asks the tenant's object); leased admission, the default, is in leased-admission.test.ts. */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantLimiter } from "../src/tenants/tenant-object";
import { adminCall, callRaw, json, setup, tenantKey, testEnv } from "./support/helpers";

beforeAll(setup);

const get = (key: string, path = "/v2/models/iris") => callRaw(path, { headers: { authorization: `Bearer ${key}` } });
const stubOf = (tenant: string) => testEnv.TENANTS.get(testEnv.TENANTS.idFromName(tenant));
const keyIdOf = async (tenant: string) =>
  (await json<{ keys: { id: string }[] }>(await adminCall("GET", `/tenants/${tenant}/keys`))).keys[0]!.id;

describe("the token bucket is exact across concurrent requests", () => {
  it("lets exactly B of N > B simultaneous requests through", async () => {
    const key = await tenantKey("burst10", { requests_per_minute: 1, burst: 10, admission: "exact" });
    const responses = await Promise.all(Array.from({ length: 40 }, () => get(key)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    const refused = responses.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(refused.headers.get("RateLimit-Limit")).toBe("10");
    expect(refused.headers.get("RateLimit-Remaining")).toBe("0");
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/^rate limit exceeded/) });
  });

  it("puts RateLimit headers on every keyed response, counting down", async () => {
    const key = await tenantKey("headers", { requests_per_minute: 60, burst: 5, admission: "exact" });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get(key);
      expect(res.headers.get("RateLimit-Limit")).toBe("5");
      expect(Number(res.headers.get("RateLimit-Reset"))).toBeGreaterThan(0);
      remaining.push(res.headers.get("RateLimit-Remaining")!);
    }
    expect(remaining).toEqual(["4", "3", "2"]);
    const notFound = await get(key, "/v2/models/nope");
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("RateLimit-Remaining")).toBe("1");
  });

  it("charges one token per request on every route, server-level ones included", async () => {
    const key = await tenantKey("one-token", { requests_per_minute: 1, burst: 10, admission: "exact" });
    const remaining = [];
    for (const path of ["/v2", "/v2/models/iris", "/v1/models/iris"]) remaining.push((await get(key, path)).headers.get("RateLimit-Remaining"));
    expect(remaining).toEqual(["9", "8", "7"]);
  });

  it("gives each tenant its own bucket", async () => {
    const a = await tenantKey("tenant-a", { requests_per_minute: 1, burst: 2, admission: "exact" });
    const b = await tenantKey("tenant-b", { requests_per_minute: 1, burst: 2, admission: "exact" });
    const statuses = async (key: string) => (await Promise.all([get(key), get(key), get(key)])).map((r) => r.status).sort();
    expect(await statuses(a)).toEqual([200, 200, 429]);
    expect(await statuses(b)).toEqual([200, 200, 429]);
  });

  it("shares one bucket between a tenant's keys", async () => {
    const first = await tenantKey("two-keys", { requests_per_minute: 1, burst: 2, admission: "exact" });
    const second = await tenantKey("two-keys", { requests_per_minute: 1, burst: 2, admission: "exact" });
    expect([(await get(first)).status, (await get(second)).status, (await get(second)).status]).toEqual([200, 200, 429]);
  });
});

describe("the tenant's Durable Object", () => {
  it("refills the bucket over time", async () => {
    await tenantKey("refill", { requests_per_minute: 60, burst: 2, admission: "exact" });
    const keyId = await keyIdOf("refill");
    await runInDurableObject(stubOf("refill"), (limiter: TenantLimiter) => {
      const t0 = Date.now();
      expect(limiter.admitAt(t0, keyId, null).outcome).toBe("allowed");
      expect(limiter.admitAt(t0, keyId, null).outcome).toBe("allowed");
      const refused = limiter.admitAt(t0, keyId, null);
      expect(refused).toMatchObject({ outcome: "rate_limited", retryAfterSeconds: 1 });
      expect(limiter.admitAt(t0 + 1000, keyId, null).outcome).toBe("allowed"); // one token a second
      expect(limiter.admitAt(t0 + 1000, keyId, null).outcome).toBe("rate_limited");
      expect(limiter.admitAt(t0 + 60_000, keyId, null)).toMatchObject({ outcome: "allowed", remaining: 1 }); // capped at burst
    });
  });

  it("enforces the daily quota and rolls it over at midnight UTC", async () => {
    await tenantKey("quota", { requests_per_minute: 1000, daily_quota: 3, admission: "exact" });
    const keyId = await keyIdOf("quota");
    await runInDurableObject(stubOf("quota"), (limiter: TenantLimiter) => {
      const noon = Date.UTC(2026, 10, 25, 12);
      for (let i = 0; i < 3; i++) expect(limiter.admitAt(noon + i, keyId, "iris").outcome).toBe("allowed");
      const refused = limiter.admitAt(noon + 10, keyId, "iris");
      expect(refused).toMatchObject({ outcome: "quota_exceeded", quota: 3, retryAfterSeconds: 12 * 3600 });
      expect(limiter.admitAt(Date.UTC(2026, 10, 26, 0, 0, 1), keyId, "iris").outcome).toBe("allowed");
      const usage = limiter.usage()!;
      expect(usage.find((d) => d.date === "2026-11-25")).toMatchObject({ accepted: 3, rejected_quota: 1 });
      expect(usage.find((d) => d.date === "2026-11-26")).toMatchObject({ accepted: 1 });
    });
  });

  it("says a quota refusal is the quota, over HTTP", async () => {
    const key = await tenantKey("quota-http", { requests_per_minute: 1000, daily_quota: 1, admission: "exact" });
    expect((await get(key)).status).toBe(200);
    const res = await get(key);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await res.json()) as object).toEqual({ error: expect.stringMatching(/^daily quota of 1 requests exhausted/) });
  });

  it("keeps its bucket and usage across an eviction", async () => {
    const key = await tenantKey("durable", { requests_per_minute: 1, burst: 3, admission: "exact" });
    expect((await get(key)).status).toBe(200);
    expect((await get(key)).status).toBe(200);
    await evictDurableObject(stubOf("durable"));
    expect((await get(key)).status).toBe(200);
    expect((await get(key)).status).toBe(429); // the bucket was not refilled by the restart
    const usage = await runInDurableObject(stubOf("durable"), (l: TenantLimiter) => l.usage());
    expect(usage![0]).toMatchObject({ accepted: 3, rejected_rate_limit: 1 });
  });
});

describe("changes take effect on the next request, everywhere", () => {
  it("revoking a key refuses it at once, though this isolate has it memoised as valid", async () => {
    const key = await tenantKey("revoke-now", { requests_per_minute: 1000, admission: "exact" });
    expect((await get(key)).status).toBe(200);
    await json(await adminCall("DELETE", `/tenants/revoke-now/keys/${await keyIdOf("revoke-now")}`));
    const res = await get(key);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "API key has been revoked" });
  });

  it("a smaller burst applies at once", async () => {
    const key = await tenantKey("shrink", { requests_per_minute: 1, burst: 100, admission: "exact" });
    expect((await get(key)).status).toBe(200);
    await json(await adminCall("PUT", "/tenants/shrink", { requests_per_minute: 1, burst: 1, admission: "exact" }));
    expect([(await get(key)).status, (await get(key)).status]).toEqual([200, 429]);
  });

  it("usage counts accepted and refused requests", async () => {
    const key = await tenantKey("counted", { requests_per_minute: 1, burst: 2, admission: "exact" });
    await Promise.all(Array.from({ length: 5 }, () => get(key)));
    const body = await json<{ days: { accepted: number; rejected_rate_limit: number }[] }>(await adminCall("GET", "/tenants/counted/usage"));
    expect(body.days[0]).toMatchObject({ accepted: 2, rejected_rate_limit: 3 });
  });
});
