/** The admission queue against a stand-in for the tenant's object: a bucket that grants what it holds. */
import { describe, expect, it } from "vitest";
import { AdmissionQueue, AskTimedOut, CallLost, type Ask, type Decision } from "../../src/ratelimit/admission-queue";
import { LeaseBook } from "../../src/ratelimit/lease";
import type { Admission } from "../../src/ratelimit/limiter";
import { LEASE_MS } from "../../src/ratelimit/policy";

const WAIT = 60_000;

/** A bucket of `tokens` that leases up to `leaseCap` extra tokens, as the tenant's object does; it records each call's `need`. */
function bucket(tokens: number, leaseCap = 0) {
  const calls: number[] = [];
  let left = tokens;
  const ask: Ask = async (unused, want, need) => {
    calls.push(need);
    left += unused;
    await Promise.resolve();
    if (left < 1) return { outcome: "rate_limited", retryAfterSeconds: 60, limit: tokens, remaining: 0, resetSeconds: 60 };
    const granted = Math.min(need, Math.floor(left));
    const extra = Math.min(want, leaseCap, Math.floor(left) - granted);
    left -= granted + extra;
    return { outcome: "allowed", granted, limit: tokens, remaining: Math.floor(left), resetSeconds: 60, ...(extra > 0 ? { lease: { tokens: extra, ttlMs: LEASE_MS } } : {}) };
  };
  return { ask, calls, left: () => left };
}

/**
 * Three requests on one key: the first call is for one request; the second, for the two that came
 * meanwhile, answers only after its other request (20 ms wait) has given up on it.
 */
function callGivenUpOn() {
  const queue = new AdmissionQueue(new LeaseBook());
  let release!: () => void;
  const first = new Promise<void>((r) => (release = r));
  const needs: number[] = [];
  const ask: Ask = async (_unused, _want, need) => {
    needs.push(need);
    if (needs.length === 1) await first;
    else await new Promise((r) => setTimeout(r, 200));
    return { outcome: "allowed", granted: need, limit: 10, remaining: 5, resetSeconds: 1 };
  };
  const caller = queue.admit("k", ask, 60_000);
  const rest = Promise.allSettled([queue.admit("k", ask, 60_000), queue.admit("k", ask, 20)]);
  release();
  return { queue, needs, caller, rest };
}

const admitted = (ds: Decision[]) => ds.filter((d) => d.outcome === "admitted").length;

describe("AdmissionQueue", () => {
  it("lets exactly min(N, B) of N simultaneous requests through, one call at a time for all who wait", async () => {
    for (const [n, b, cap] of [[60, 20, 2], [120, 60, 6], [10, 100, 10], [5, 5, 0], [40, 10, 0]] as const) {
      const queue = new AdmissionQueue(new LeaseBook());
      const object = bucket(b, cap);
      const decisions = await Promise.all(Array.from({ length: n }, () => queue.admit("k", object.ask, WAIT)));
      expect(admitted(decisions), `${n} against ${b}`).toBe(Math.min(n, b));
      // The first call is made for the first request alone, the next for all that came meanwhile, a third (if any) refuses the rest.
      expect(object.calls.length, `${n} against ${b}: ${object.calls}`).toBeLessThanOrEqual(3);
    }
  });

  it("shares a refusal among the requests it was made for, and counts each once", async () => {
    const queue = new AdmissionQueue(new LeaseBook());
    const object = bucket(3);
    const decisions = await Promise.all(Array.from({ length: 10 }, () => queue.admit("k", object.ask, WAIT)));
    expect(admitted(decisions)).toBe(3);
    const refused = decisions.filter((d) => d.outcome === "refused");
    expect(refused).toHaveLength(7);
    expect(refused.every((d) => d.outcome === "refused" && d.admission.outcome === "rate_limited")).toBe(true);
    // Every request was in exactly one call's need, but for those the bucket had no token for, which asked again.
    expect(object.calls).toEqual([1, 9, 7]);
  });

  it("reports remaining counting down across the requests of a call and its lease", async () => {
    const queue = new AdmissionQueue(new LeaseBook());
    const object = bucket(50, 5);
    const decisions = await Promise.all(Array.from({ length: 12 }, () => queue.admit("k", object.ask, WAIT)));
    const remaining = decisions.map((d) => (d.outcome === "admitted" ? d.limits.remaining : -1)).sort((a, b) => b - a);
    expect(remaining).toEqual(Array.from({ length: 12 }, (_, i) => 49 - i));
  });

  it("spends a lease held before asking, and asks again only when it is spent", async () => {
    const queue = new AdmissionQueue(new LeaseBook());
    const object = bucket(100, 4);
    for (let i = 0; i < 5; i++) expect((await queue.admit("k", object.ask, WAIT)).outcome).toBe("admitted");
    // 1 + 4 leased by the first call: the sixth request asks again.
    expect(object.calls).toEqual([1]);
    await queue.admit("k", object.ask, WAIT);
    expect(object.calls).toEqual([1, 1]);
    // Another key's requests have their own line and lease.
    await queue.admit("other", object.ask, WAIT);
    expect(object.calls).toEqual([1, 1, 1]);
  });

  it("fails every request of a call that failed, and the next requests make a new call", async () => {
    const queue = new AdmissionQueue(new LeaseBook());
    let fail = true;
    const object = bucket(100);
    const ask: Ask = async (unused, want, need) => {
      if (fail) {
        await Promise.resolve();
        throw new Error("unreachable");
      }
      return object.ask(unused, want, need);
    };
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => queue.admit("k", ask, WAIT)));
    expect(results.every((r) => r.status === "rejected" && (r.reason as Error).message === "unreachable")).toBe(true);
    fail = false;
    expect((await queue.admit("k", ask, WAIT)).outcome).toBe("admitted");
  });

  it("gives up on a call whose caller never hears back, after maxWaitMs, and makes a new one for those waiting", async () => {
    const queue = new AdmissionQueue(new LeaseBook());
    const object = bucket(100);
    let calls = 0;
    const ask: Ask = (unused, want, need) => (calls++ === 0 ? new Promise<Admission>(() => {}) : object.ask(unused, want, need));
    void queue.admit("k", ask, 20); // its caller never hears back
    const waiting = await Promise.all([queue.admit("k", ask, 20), queue.admit("k", ask, 20)]);
    expect(waiting.map((d) => d.outcome)).toEqual(["admitted", "admitted"]);
    expect(object.calls).toEqual([2]);
  });

  it("fails the other requests of a call given up on with CallLost; a late answer is its caller's alone", async () => {
    const { needs, caller, rest } = callGivenUpOn();
    expect((await caller).outcome).toBe("admitted");
    const [maker, member] = await rest;
    expect(needs).toEqual([1, 2]);
    expect(maker.status === "fulfilled" && maker.value.outcome).toBe("admitted");
    expect(member.status === "rejected" && member.reason instanceof CallLost).toBe(true);
  });

  it("gives back, with the next ask, the tokens a failed ask was carrying back", async () => {
    let t = 0;
    const queue = new AdmissionQueue(new LeaseBook(), () => t);
    const object = bucket(100, 4);
    await queue.admit("k", object.ask, WAIT); // 1 + 4 leased
    await queue.admit("k", object.ask, WAIT); // spends one: 3 left
    expect(object.left()).toBe(95);
    t += LEASE_MS + 1; // the lease ended with 3 unspent
    const failing: Ask = async () => {
      throw new Error("unreachable");
    };
    await expect(queue.admit("k", failing, WAIT)).rejects.toThrow("unreachable");
    const given: number[] = [];
    await queue.admit("k", (unused, want, need) => (given.push(unused), object.ask(unused, want, need)), WAIT);
    expect(given).toEqual([3]);
  });

  it("gives back the tokens a late answer granted to requests that had given up on it", async () => {
    const { queue, caller, rest } = callGivenUpOn();
    await caller;
    const [, member] = await rest;
    expect(member.status === "rejected" && member.reason instanceof CallLost).toBe(true);
    // Granted 2 for a call whose other request had gone: that one token comes back.
    const given: number[] = [];
    await queue.admit("k", async (unused, _want, need) => (given.push(unused), { outcome: "allowed", granted: need, limit: 10, remaining: 5, resetSeconds: 1 }), WAIT);
    expect(given).toEqual([1]);
  });

  it("after an ask timed out, gives back every token its late answer took, or what it carried when no answer comes", async () => {
    const queue = new AdmissionQueue(new LeaseBook());
    let answer!: (a: Admission) => void;
    const late = new Promise<Admission>((r) => (answer = r));
    await expect(queue.admit("k", async () => Promise.reject(new AskTimedOut(late)), WAIT)).rejects.toBeInstanceOf(AskTimedOut);
    answer({ outcome: "allowed", granted: 1, limit: 10, remaining: 5, resetSeconds: 1, lease: { tokens: 4, ttlMs: LEASE_MS } });
    await late;
    const given: number[] = [];
    const record: Ask = async (unused, _want, need) => (given.push(unused), { outcome: "allowed", granted: need, limit: 10, remaining: 5, resetSeconds: 1 });
    await queue.admit("k", record, WAIT);
    expect(given).toEqual([5]);
  });
});
