import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryBudget, type Reservation } from "../../src/byte-budget";
import { budgetSettings, capacityNow, estimatedPeak, MIN_CAPACITY_BYTES, tenantBytesNow } from "../../src/http/memory-budget";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("MemoryBudget", () => {
  it("admits while the bytes fit, then each waiting one as soon as it fits: a large one waiting never holds up a smaller one behind it", async () => {
    const budget = new MemoryBudget();
    const first = await budget.acquire(60, 100, 5000);
    expect(first).not.toBeNull();
    const order: string[] = [];
    const big = budget.acquire(70, 100, 5000).then((r) => (order.push("big"), r));
    // 30 fits beside the first: it does not wait behind the big one (issue 23: a queued body blocked those behind it).
    const small = budget.acquire(30, 100, 5000).then((r) => (order.push("small"), r));
    await tick();
    expect(order).toEqual(["small"]);
    expect(budget.status()).toEqual({ reserved_bytes: 90, waiting: 1, refused: 0 });
    first!.release();
    (await small)!.release();
    const b = await big;
    expect(order).toEqual(["small", "big"]);
    expect(budget.status()).toEqual({ reserved_bytes: 70, waiting: 0, refused: 0 });
    b!.release();
    b!.release(); // twice is harmless
    expect(budget.status().reserved_bytes).toBe(0);
  });

  it("grows a reservation as its body arrives, within a tenant's share unless nothing else is held, and ends its waits on release", async () => {
    const budget = new MemoryBudget();
    const a = (await budget.acquire(0, 100, 5000, { tenant: "a", bytes: 50 }))!;
    expect(await a.grow(60, 5000)).toBe(true); // alone: past its share
    const b = (await budget.acquire(10, 100, 5000, { tenant: "b", bytes: 50 }))!;
    // Tenant a is past its share now that b holds something; b still has room within its own.
    const aMore = a.grow(5, 5000);
    expect(await b.grow(20, 5000)).toBe(true);
    expect(budget.status()).toEqual({ reserved_bytes: 90, waiting: 1, refused: 0 });
    // Released while it waits: the wait ends without the bytes, and nothing is left held of it.
    a.release();
    expect(await aMore).toBe(false);
    expect(await a.grow(1, 5000)).toBe(false);
    expect(budget.status()).toEqual({ reserved_bytes: 30, waiting: 0, refused: 0 });
    // Another of b's bodies waits for b's share, not for the isolate's.
    const b2 = (await budget.acquire(0, 100, 5000, { tenant: "b", bytes: 50 }))!;
    const b2Grow = b2.grow(25, 5000);
    await tick();
    expect(budget.status().waiting).toBe(1);
    b.shrink(20);
    expect(await b2Grow).toBe(true);
    b.release();
    b2.release();
    expect(budget.status()).toEqual({ reserved_bytes: 0, waiting: 0, refused: 0 });
  });

  it("never lets bodies that hold bytes wait on one another: the newest such wait is refused at once, and the others go on", async () => {
    const budget = new MemoryBudget();
    const settled = (p: Promise<boolean>) => Promise.race([p, tick().then(() => "waiting" as const)]);
    // Two bodies holding 40 each, each needing 40 more: were both to wait, neither would give any back.
    const a = budget.open(100);
    const b = budget.open(100);
    expect(await a.grow(40, 60_000)).toBe(true);
    expect(await b.grow(40, 60_000)).toBe(true);
    const aMore = a.grow(40, 60_000);
    expect(await settled(aMore)).toBe("waiting"); // b reads on, and will give its bytes back
    expect(await settled(b.grow(40, 60_000))).toBe(false);
    expect(budget.status()).toEqual({ reserved_bytes: 80, waiting: 1, refused: 1 });
    b.release(); // its body fails with a 503
    expect(await aMore).toBe(true);
    a.release();

    // Two waiting behind a third that then finishes, and still neither fits: the newest is refused.
    const [c, d, e] = [budget.open(100), budget.open(100), budget.open(100)];
    for (const r of [c, d, e]) expect(await r.grow(30, 60_000)).toBe(true);
    const cMore = c.grow(50, 60_000);
    const dMore = d.grow(50, 60_000);
    expect(await settled(cMore)).toBe("waiting");
    expect(await settled(dMore)).toBe("waiting");
    e.release();
    expect(await settled(dMore)).toBe(false);
    expect(await settled(cMore)).toBe("waiting");
    d.release();
    expect(await cMore).toBe(true);
    c.release();
    expect(budget.status()).toEqual({ reserved_bytes: 0, waiting: 0, refused: 2 });
  });

  it("lets a body grow past the capacity alone only while nobody waits: a slow large body never holds the others back", async () => {
    const budget = new MemoryBudget();
    const settled = (p: Promise<boolean>) => Promise.race([p, tick().then(() => "waiting" as const)]);
    const large = budget.open(100);
    expect(await large.grow(80, 60_000)).toBe(true);
    expect(await large.grow(40, 60_000)).toBe(true); // alone: past the capacity
    const other = budget.acquire(10, 100, 60_000);
    expect(await settled(other.then((r) => r !== null))).toBe("waiting");
    // Its next piece would keep the one waiting out for as long as its client takes: refused at once.
    expect(await settled(large.grow(10, 60_000))).toBe(false);
    large.release();
    const admitted = (await other)!;
    expect(budget.status()).toEqual({ reserved_bytes: 10, waiting: 0, refused: 1 });
    admitted.release();
  });

  it("admits a body larger than the whole budget, alone", async () => {
    const budget = new MemoryBudget();
    const small = await budget.acquire(10, 100, 5000);
    let admitted = false;
    const huge = budget.acquire(500, 100, 5000).then((r) => ((admitted = true), r));
    await tick();
    expect(admitted).toBe(false);
    small!.release();
    (await huge)!.release();
    expect(admitted).toBe(true);
    expect(budget.status().reserved_bytes).toBe(0);
  });

  it("refuses after the wait, and lets in those behind the one refused", async () => {
    const budget = new MemoryBudget();
    const held = await budget.acquire(80, 100, 5000);
    const refused = budget.acquire(90, 100, 30);
    const behind = budget.acquire(20, 100, 5000);
    expect(await refused).toBeNull();
    const r = await behind;
    expect(r).not.toBeNull();
    expect(budget.status()).toEqual({ reserved_bytes: 100, waiting: 0, refused: 1 });
    held!.release();
    r!.release();
    expect(budget.status().reserved_bytes).toBe(0);
  });

  it("lets those waiting in when a reservation shrinks, and releases only what is still held", async () => {
    const budget = new MemoryBudget();
    const undeclared = await budget.acquire(90, 100, 5000); // a body's limit, before it is read
    let admitted = false;
    const next = budget.acquire(50, 100, 5000).then((r) => ((admitted = true), r));
    await tick();
    expect(admitted).toBe(false);
    undeclared!.shrink(120); // never raised
    undeclared!.shrink(30); // what arrived
    const r = await next;
    expect(budget.status()).toEqual({ reserved_bytes: 80, waiting: 0, refused: 0 });
    undeclared!.release();
    undeclared!.release();
    expect(budget.status().reserved_bytes).toBe(50);
    r!.release();
    expect(budget.status().reserved_bytes).toBe(0);
  });

  it("never holds more than its capacity but for one body alone, and grants every request in the end (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 25 }),
        async (steps) => {
          const budget = new MemoryBudget();
          const granted: number[] = [];
          // Each granted reservation, what it holds, and whether it is still to shrink (to half) before its release.
          const held: { r: Reservation; cost: number; shrinks: boolean }[] = [];
          let over = false;
          // Once every grant's callback has run (after a tick), the budget holds what they hold, within capacity but for one alone.
          const check = () => {
            const reserved = budget.status().reserved_bytes;
            if (reserved !== held.reduce((n, h) => n + h.cost, 0)) over = true;
            if (reserved > 100 && held.filter((h) => h.cost > 0).length > 1) over = true;
          };
          steps.forEach(([cost, , shrinks], i) => {
            void budget.acquire(cost, 100, 60_000).then((r) => {
              granted.push(i);
              held.push({ r: r!, cost, shrinks });
              const reserved = budget.status().reserved_bytes;
              if (reserved > 100 && reserved !== cost) over = true;
            });
          });
          // Shrink or release in a scrambled order until everything was granted.
          let round = 0;
          while (granted.length < steps.length || held.length > 0) {
            await tick();
            check();
            const at = steps[round % steps.length]![1] % Math.max(1, held.length);
            const pick = held[at];
            if (pick?.shrinks) {
              pick.shrinks = false;
              pick.cost = Math.floor(pick.cost / 2);
              pick.r.shrink(pick.cost);
            } else if (pick) {
              held.splice(at, 1);
              pick.r.release();
            }
            round++;
            if (round > 1000) throw new Error("stuck");
          }
          expect(over).toBe(false);
          expect([...granted].sort((x, y) => x - y)).toEqual(steps.map((_, i) => i));
          expect(budget.status()).toEqual({ reserved_bytes: 0, waiting: 0, refused: 0 });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("what bodies may hold beside onnxruntime's heap", () => {
  const MiB = 1024 * 1024;
  const s = budgetSettings({ REQUEST_MEMORY_BUDGET_BYTES: String(48 * MiB), ISOLATE_MEMORY_BYTES: String(128 * MiB), REQUEST_MEMORY_TENANT_SHARE: "0.5" });

  it("is the budget while the heap is small, what the isolate has left as it grows, and never under the floor", () => {
    expect(capacityNow(s, null)).toBe(48 * MiB);
    expect(capacityNow(s, 16 * MiB)).toBe(48 * MiB);
    expect(capacityNow(s, 96 * MiB)).toBe(32 * MiB);
    expect(tenantBytesNow(s, 96 * MiB)).toBe(16 * MiB);
    expect(capacityNow(s, 127 * MiB)).toBe(MIN_CAPACITY_BYTES);
    expect(budgetSettings({}).isolateBytes).toBe(128 * MiB);
  });

  it("is looked at again on every grow: a heap grown while a body waits lowers what it may take", async () => {
    const budget = new MemoryBudget();
    let capacity = 100;
    const first = (await budget.acquire(40, () => capacity, 5000))!;
    const second = budget.open(() => capacity);
    expect(await second.grow(40, 5000)).toBe(true);
    capacity = 70; // the heap grew
    expect(await second.grow(10, 20)).toBe(false);
    expect(budget.status()).toEqual({ reserved_bytes: 80, waiting: 0, refused: 1 });
    first.release();
    second.release();
  });
});

describe("estimatedPeak", () => {
  it("counts JSON at 3× its bytes, model uploads at 2×, binary tensors at 1×", () => {
    expect(estimatedPeak("json", 1000)).toBe(3000);
    expect(estimatedPeak("upload", 1000)).toBe(2000);
    expect(estimatedPeak("binary", 1000)).toBe(1000);
  });
});
