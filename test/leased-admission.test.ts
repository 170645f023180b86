/** Leased admission: an isolate spends tokens its tenant's object handed it, skipping round trips. */
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { AdmissionQueue, type Ask } from "../src/ratelimit/admission-queue";
import { LeaseBook } from "../src/ratelimit/lease";
import type { TenantLimiter } from "../src/tenants/tenant-object";
import { LEASE_MS } from "../src/ratelimit/policy";
import { adminCall, callRaw, eventually, json, setup, tenantKey, testEnv } from "./support/helpers";

beforeAll(setup);

const get = (key: string, path = "/v2/models/iris") => callRaw(path, { headers: { authorization: `Bearer ${key}` } });
const stubOf = (tenant: string) => testEnv.TENANTS.get(testEnv.TENANTS.idFromName(tenant));
interface Day {
  accepted: number;
  rejected_rate_limit: number;
}
const usageToday = async (tenant: string): Promise<Day> =>
  (await json<{ days: Day[] }>(await adminCall("GET", `/tenants/${tenant}/usage`))).days[0] ?? { accepted: 0, rejected_rate_limit: 0 };
const acceptedToday = async (tenant: string) => (await usageToday(tenant)).accepted;
/** Waits until the tenant's accepted count is `n`: the isolate gives a lease's unspent tokens back when the lease ends. */
const settlesAt = (tenant: string, n: number) =>
  eventually(async () => ((await acceptedToday(tenant)) === n ? true : undefined), `${tenant}'s accepted count to settle at ${n}`, 20_000);
const WAIT = 60_000;

describe("leased admission", () => {
  it("lets exactly the bucket through of a burst larger than it, and counts as accepted exactly the requests served", async () => {
    let trial = 0;
    for (const [burst, n] of [[20, 60], [60, 120], [20, 60], [20, 60], [7, 30]] as const) {
      const tenant = `leased-burst-${trial++}`;
      const key = await tenantKey(tenant, { requests_per_minute: 1, burst, admission: "leased" });
      const statuses = (await Promise.all(Array.from({ length: n }, () => get(key)))).map((r) => r.status);
      expect(statuses.filter((s) => s === 200), `${burst} of ${n}`).toHaveLength(burst);
      expect(statuses.filter((s) => s === 429), `${burst} of ${n}`).toHaveLength(n - burst);
      // Every token was spent on a request (the burst outran the bucket): nothing is left to give back.
      expect(await usageToday(tenant)).toMatchObject({ accepted: burst, rejected_rate_limit: n - burst });
    }
  });

  it("lets a burst smaller than the bucket through whole, and counts only the requests served once the lease ends", async () => {
    const key = await tenantKey("leased-small-burst", { requests_per_minute: 1, burst: 200, admission: "leased" });
    const statuses = (await Promise.all(Array.from({ length: 15 }, () => get(key)))).map((r) => r.status);
    expect(statuses).toEqual(Array.from({ length: 15 }, () => 200));
    for (let i = 0; i < 5; i++) expect((await get(key)).status).toBe(200);
    // Tokens leased to the isolate are counted when leased and given back when the lease ends.
    expect(await acceptedToday("leased-small-burst")).toBeGreaterThanOrEqual(20);
    await settlesAt("leased-small-burst", 20);
  });

  it("asks the tenant's object about once per lease, sizes leases to demand, and gives unspent tokens back", async () => {
    await tenantKey("leased-many", { requests_per_minute: 100_000, burst: 1000, admission: "leased" });
    // On a clock of the test's own, so how fast this machine is changes nothing.
    await runInDurableObject(stubOf("leased-many"), async (limiter: TenantLimiter) => {
      const keyId = limiter.listKeys()![0]!.id;
      const start = Date.UTC(2026, 0, 2, 1);
      let now = start;
      const book = new LeaseBook();
      const queue = new AdmissionQueue(book, () => now);
      let asks = 0;
      const ask: Ask = async (unused, want, need) => {
        asks++;
        return limiter.admitAt(now, keyId, "iris", unused, want, need);
      };
      const accepted = () => limiter.usage()!.find((d) => d.date === "2026-01-02")!.accepted;
      for (let i = 0; i < 50; i++, now++) expect((await queue.admit("id", ask, WAIT)).outcome).toBe("admitted");
      // The first ask brought 1 + 32 tokens; spent before the lease ended, so the 34th asked for
      // twice as many: 1 + 64. 98 counted, 50 spent, 48 held.
      expect(asks).toBe(2);
      expect(accepted()).toBe(98);
      // When the lease ends, the isolate gives the 48 back; the next ask asks for what the lease saw spent (16).
      now = start + 33 + LEASE_MS;
      const unused = book.settle("id", now);
      expect(unused).toBe(48);
      limiter.giveBackAt(now, unused);
      expect(accepted()).toBe(50);
      expect((await queue.admit("id", ask, WAIT)).outcome).toBe("admitted");
      expect(asks).toBe(3);
      expect(accepted()).toBe(50 + 1 + 16);
    });
    // Over HTTP, however fast the requests come, what is counted once the leases end is what was served.
    const key = await tenantKey("leased-many-http", { requests_per_minute: 100_000, burst: 1000, admission: "leased" });
    for (let i = 0; i < 50; i++) expect((await get(key)).status).toBe(200);
    await settlesAt("leased-many-http", 50);
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

  it("never lets more requests through than the bucket and its refill hold, and counts what was served once leases end, however isolates interleave (fast-check)", async () => {
    // Isolates driven as the middleware drives them (each its lease book and admission queue, a
    // step's requests arriving at once), on one tenant's object, under a virtual clock.
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
          const start = Date.UTC(2026, 0, 1, 1); // one day throughout: at most 40 × 3 s pass
          let now = start;
          const isolates = Array.from({ length: 4 }, () => {
            const book = new LeaseBook();
            return { book, queue: new AdmissionQueue(book, () => now) };
          });
          const ask: Ask = async (unused, want, need) => limiter.admitAt(now, keyId, "iris", unused, want, need);
          let passed = 0;
          for (const step of steps) {
            now += step.advanceMs;
            const { queue } = isolates[step.isolate]!;
            const decisions = await Promise.all(Array.from({ length: step.requests }, () => queue.admit("id", ask, WAIT)));
            passed += decisions.filter((d) => d.outcome === "admitted").length;
            // The bucket starts full and refills at rpm: no more can have passed.
            expect(passed).toBeLessThanOrEqual(burst + Math.floor((rpm * (now - start)) / 60_000));
            if (quota !== null) expect(passed).toBeLessThanOrEqual(quota);
          }
          // Every lease ends and gives back what it did not spend: accepted is then what passed.
          now += LEASE_MS;
          for (const { book } of isolates) limiter.giveBackAt(now, book.settle("id", now));
          expect(limiter.usage()!.find((d) => d.date === "2026-01-01")?.accepted ?? 0).toBe(passed);
        });
      }),
      { numRuns: 40 },
    );
  });
});
