import { describe, expect, it } from "vitest";
import type { LoadedSession } from "../../src/serving/loader";
import { ModelManager, type SessionKey } from "../../src/serving/manager";

/** A session that records its release, standing in for ORT (the manager never runs it). */
function fakeSession(log: string[], name: string): LoadedSession {
  return { inputs: [], outputs: [], run: async () => [], release: async () => void log.push(`release ${name}`) };
}
const key = (model: string, version = 1, etag = "e1"): SessionKey => ({ model, version, etag });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("ModelManager", () => {
  it("loads once for concurrent first requests", async () => {
    let loads = 0;
    const m = new ModelManager({ maxBytes: 100, failureTtlMs: 1000 });
    const leases = await Promise.all(
      Array.from({ length: 8 }, () => m.acquire(key("a"), 10, async () => (loads++, fakeSession([], "a")))),
    );
    expect(loads).toBe(1);
    expect(new Set(leases.map((l) => l.session)).size).toBe(1);
  });

  it("evicts the least recently used idle session when over budget", async () => {
    const log: string[] = [];
    let now = 0;
    const m = new ModelManager({ maxBytes: 25, failureTtlMs: 1000, now: () => now });
    for (const name of ["a", "b"]) {
      now++;
      (await m.acquire(key(name), 10, async () => fakeSession(log, name))).release();
    }
    now++;
    (await m.acquire(key("a"), 10, async () => fakeSession(log, "a2"))).release(); // a is now the most recent
    now++;
    (await m.acquire(key("c"), 10, async () => fakeSession(log, "c"))).release();
    await tick();
    expect(log).toEqual(["release b"]);
    expect(m.status().map((s) => s.model).sort()).toEqual(["a", "c"]);
  });

  it("keeps a session in use even over budget, and releases it once when idle", async () => {
    const log: string[] = [];
    const m = new ModelManager({ maxBytes: 15, failureTtlMs: 1000 });
    const held = await m.acquire(key("a"), 10, async () => fakeSession(log, "a"));
    (await m.acquire(key("b"), 10, async () => fakeSession(log, "b"))).release();
    await tick();
    expect(log).toEqual(["release b"]); // over budget: the idle one goes, the busy one stays
    const big = await m.acquire(key("big"), 50, async () => fakeSession(log, "big"));
    await tick();
    expect(log).toEqual(["release b"]);
    big.release();
    big.release(); // a second release is a no-op
    held.release();
    await tick();
    expect(log.filter((l) => l === "release big")).toHaveLength(1);
    expect(m.status().map((s) => s.model)).toEqual(["a"]);
  });

  it("drops the session of a replaced object (new etag) once idle", async () => {
    const log: string[] = [];
    const m = new ModelManager({ maxBytes: 1000, failureTtlMs: 1000 });
    const old = await m.acquire(key("a", 1, "old"), 10, async () => fakeSession(log, "old"));
    const fresh = await m.acquire(key("a", 1, "new"), 10, async () => fakeSession(log, "new"));
    expect(fresh.session).not.toBe(old.session);
    await tick();
    expect(log).toEqual([]); // a request is still running on the old bytes
    old.release();
    await tick();
    expect(log).toEqual(["release old"]);
    expect(m.status().map((s) => s.etag)).toEqual(["new"]);
  });

  it("builds the same bytes anew for other session options, and drops the old build once idle", async () => {
    const log: string[] = [];
    const m = new ModelManager({ maxBytes: 1000, failureTtlMs: 1000 });
    const plain = await m.acquire(key("a"), 10, async () => fakeSession(log, "plain"));
    const tuned = await m.acquire({ ...key("a"), options: '{"disable_prepacking":true}' }, 10, async () => fakeSession(log, "tuned"));
    expect(tuned.session).not.toBe(plain.session);
    plain.release();
    tuned.release();
    await tick();
    expect(log).toEqual(["release plain"]);
    expect(m.status().map((s) => s.options)).toEqual(['{"disable_prepacking":true}']);
    expect(m.isReady(key("a"))).toBe(false);
  });

  it("remembers a failed load for failureTtlMs, then tries again", async () => {
    let now = 0;
    let attempts = 0;
    const m = new ModelManager({ maxBytes: 100, failureTtlMs: 5000, now: () => now });
    const failing = async () => {
      attempts++;
      throw new Error("bad bytes");
    };
    await expect(m.acquire(key("a"), 10, failing)).rejects.toThrow("bad bytes");
    await expect(m.acquire(key("a"), 10, failing)).rejects.toThrow("bad bytes");
    expect(attempts).toBe(1);
    expect(m.status()[0]).toMatchObject({ state: "failed", error: "bad bytes" });
    now = 5000;
    await expect(m.acquire(key("a"), 10, failing)).rejects.toThrow("bad bytes");
    expect(attempts).toBe(2);
  });

  it("forgets failures it is told not to remember", async () => {
    let attempts = 0;
    const m = new ModelManager({ maxBytes: 100, failureTtlMs: 5000, remembers: () => false });
    const failing = async () => {
      attempts++;
      throw new Error("r2 hiccup");
    };
    await expect(m.acquire(key("a"), 10, failing)).rejects.toThrow();
    await tick();
    await expect(m.acquire(key("a"), 10, failing)).rejects.toThrow();
    expect(attempts).toBe(2);
  });

  it("adopts a session loaded elsewhere (a publish) so the first request does not load again", async () => {
    const log: string[] = [];
    const m = new ModelManager({ maxBytes: 100, failureTtlMs: 1000 });
    const published = fakeSession(log, "published");
    m.adopt(key("a"), 10, published);
    let loads = 0;
    const lease = await m.acquire(key("a"), 10, async () => (loads++, fakeSession(log, "loaded")));
    expect(loads).toBe(0);
    expect(lease.session).toBe(published);
    lease.release();
    // Offered again while cached: the duplicate is released, the cached one kept.
    m.adopt(key("a"), 10, fakeSession(log, "duplicate"));
    await tick();
    expect(log).toEqual(["release duplicate"]);
    // An adopted session counts against the budget like any other.
    m.adopt(key("b"), 95, fakeSession(log, "big"));
    await tick();
    expect(log).toContain("release published");
  });
});
