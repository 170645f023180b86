/** Leased admission: an isolate spends tokens its tenant's object handed it, skipping round trips. */
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { LeaseBook } from "../src/ratelimit/lease";
import type { TenantLimiter } from "../src/ratelimit/limiter";
import { LEASE_MS } from "../src/ratelimit/policy";
import { adminCall, callRaw, json, setup, tenantKey, testEnv } from "./support/helpers";

beforeAll(setup);

const get = (key: string, path = "/v2/models/iris") => callRaw(path, { headers: { authorization: `Bearer ${key}` } });
const stubOf = (tenant: string) => testEnv.TENANTS.get(testEnv.TENANTS.idFromName(tenant));
const acceptedToday = async (tenant: string) =>
  (await json<{ days: { accepted: number }[] }>(await adminCall("GET", `/tenants/${tenant}/usage`))).days[0]?.accepted ?? 0;

describe("leased admission", () => {
  it("never lets more requests through than the bucket holds", async () => {
    const key = await tenantKey("leased-burst", { requests_per_minute: 1, burst: 20, admission: "leased" });
    const responses = await Promise.all(Array.from({ length: 60 }, () => get(key)));
    for (let i = 0; i < 20; i++) responses.push(await get(key));
    const passed = responses.filter((r) => r.status === 200).length;
    expect(passed).toBeGreaterThan(0);
    // 20 in the bucket, refilling at one a minute: at most one more during the test.
    expect(passed).toBeLessThanOrEqual(21);
  });

  it("asks the tenant's object about once per lease, sizes leases to demand, and gives unspent tokens back", async () => {
    const key = await tenantKey("leased-many", { requests_per_minute: 100_000, burst: 1000, admission: "leased" });
    for (let i = 0; i < 50; i++) expect((await get(key)).status).toBe(200);
    // The first ask brought 1 + 32 tokens; spent before the lease ended, so the 34th asked for
    // twice as many: 1 + 64. 98 counted, 50 spent, 48 held.
    expect(await acceptedToday("leased-many")).toBe(98);
    // After the lease expires, the next ask returns the 48 unspent tokens and asks for what the
    // lease saw spent (16).
    await new Promise((r) => setTimeout(r, LEASE_MS + 50));
    expect((await get(key)).status).toBe(200);
    expect(await acceptedToday("leased-many")).toBe(98 - 48 + 1 + 16);
    const exact = await tenantKey("exact-many", { requests_per_minute: 100_000, burst: 1000, admission: "exact" });
    for (let i = 0; i < 10; i++) expect((await get(exact)).status).toBe(200);
    expect(await acceptedToday("exact-many")).toBe(10);
  });

  it("never leases a busy isolate more than a tenth of the bucket", async () => {
    const key = await tenantKey("leased-busy", { requests_per_minute: 1_000_000, burst: 2000, admission: "leased" });
    for (let i = 0; i < 400; i++) expect((await get(key)).status).toBe(200);
    // What is counted is what was spent plus the last lease's unspent tokens: at most a tenth of
    // 2000 more. How leases grow between is timing's business, checked in test/unit/lease.test.ts.
    const accepted = await acceptedToday("leased-busy");
    expect(accepted).toBeGreaterThanOrEqual(400);
    expect(accepted).toBeLessThanOrEqual(400 + 200);
    await runInDurableObject(stubOf("leased-busy"), async (limiter: TenantLimiter) => {
      const a = limiter.admit((await limiter.listKeys())![0]!.id, "iris", 0, 5000);
      expect(a.outcome === "allowed" && a.lease?.tokens).toBe(200);
    });
  });

  it("reports RateLimit-Remaining counting down across leased requests", async () => {
    const key = await tenantKey("leased-remaining", { requests_per_minute: 1, burst: 100 });
    const remaining: number[] = [];
    for (let i = 0; i < 12; i++) remaining.push(Number((await get(key)).headers.get("RateLimit-Remaining")));
    // 100 in the bucket, one taken per request, whether asked of the object or spent from a lease.
    expect(remaining).toEqual(Array.from({ length: 12 }, (_, i) => 99 - i));
  });

  it("lets a revoked key through only until the isolate's lease ends", async () => {
    const key = await tenantKey("leased-revoke", { requests_per_minute: 100_000, burst: 1000, admission: "leased" });
    expect((await get(key)).status).toBe(200);
    const id = (await json<{ keys: { id: string }[] }>(await adminCall("GET", "/tenants/leased-revoke/keys"))).keys[0]!.id;
    await json(await adminCall("DELETE", `/tenants/leased-revoke/keys/${id}`));
    await new Promise((r) => setTimeout(r, LEASE_MS + 50));
    expect((await get(key)).status).toBe(401);
  });

  it("is the default, is refused as a policy value it does not know, and shown in the tenant", async () => {
    const bad = await adminCall("PUT", "/tenants/leased-bad", { requests_per_minute: 10, admission: "sometimes" });
    expect(bad.status).toBe(400);
    const ok = await json<{ policy: { admission: string } }>(await adminCall("PUT", "/tenants/leased-ok", { requests_per_minute: 10, admission: "leased" }), 201);
    expect(ok.policy.admission).toBe("leased");
    const plain = await json<{ policy: { admission: string } }>(await adminCall("PUT", "/tenants/plain", { requests_per_minute: 10 }), 201);
    // Leased is the default: at the edge the tenant's object is often in another region.
    expect(plain.policy.admission).toBe("leased");
    await runInDurableObject(stubOf("leased-ok"), async (limiter: TenantLimiter) => {
      expect(limiter.getTenant()?.policy.admission).toBe("leased");
    });
  });

  it("never lets more requests through than the bucket and its refill hold, however isolates interleave (fast-check)", async () => {
    // Isolates driven as the middleware drives them (spend a leased token, else end the lease and
    // ask the object, keeping what it leases), on one tenant's object, under a virtual clock.
    const schedule = fc.record({
      rpm: fc.integer({ min: 1, max: 600 }),
      burst: fc.integer({ min: 1, max: 400 }),
      quota: fc.option(fc.integer({ min: 1, max: 500 }), { freq: 3 }),
      steps: fc.array(fc.record({ isolate: fc.nat({ max: 3 }), advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3000 })), requests: fc.integer({ min: 1, max: 40 }) }), { minLength: 1, maxLength: 40 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(schedule, async ({ rpm, burst, quota, steps }) => {
        const tenant = `leased-prop-${run++}`;
        await tenantKey(tenant, { requests_per_minute: rpm, burst, admission: "leased", ...(quota !== null ? { daily_quota: quota } : {}) });
        await runInDurableObject(stubOf(tenant), async (limiter: TenantLimiter) => {
          const keyId = limiter.listKeys()![0]!.id;
          const isolates = [new LeaseBook(), new LeaseBook(), new LeaseBook(), new LeaseBook()];
          const start = Date.UTC(2026, 0, 1, 1); // one day throughout: at most 40 × 3 s pass
          let now = start;
          let passed = 0;
          for (const step of steps) {
            now += step.advanceMs;
            const book = isolates[step.isolate]!;
            for (let r = 0; r < step.requests; r++) {
              if (book.spend("id", now)) {
                passed++;
                continue;
              }
              const { unused, want } = book.end("id", now);
              const admission = limiter.admitAt(now, keyId, "iris", unused, want);
              if (admission.outcome !== "allowed") continue;
              book.keep("id", admission, now);
              passed++;
            }
            // The bucket starts full and refills at rpm: no more can have passed.
            expect(passed).toBeLessThanOrEqual(burst + Math.floor((rpm * (now - start)) / 60_000));
            if (quota !== null) expect(passed).toBeLessThanOrEqual(quota);
          }
        });
      }),
      { numRuns: 40 },
    );
  });
});
