import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { estimatedPeak, MemoryBudget } from "../../src/http/memory-budget";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("MemoryBudget", () => {
  it("admits while the bytes fit, then in arrival order as they are released: no overtaking", async () => {
    const budget = new MemoryBudget();
    const first = await budget.acquire(60, 100, 5000);
    expect(first).not.toBeNull();
    const order: string[] = [];
    const big = budget.acquire(70, 100, 5000).then((r) => (order.push("big"), r));
    // 30 would fit beside the first, but the big one came first.
    const small = budget.acquire(30, 100, 5000).then((r) => (order.push("small"), r));
    await tick();
    expect(order).toEqual([]);
    expect(budget.status()).toEqual({ reserved_bytes: 60, waiting: 2, refused: 0 });
    first!();
    const [b, s] = await Promise.all([big, small]);
    expect(order).toEqual(["big", "small"]);
    expect(budget.status()).toEqual({ reserved_bytes: 100, waiting: 0, refused: 0 });
    b!();
    s!();
    s!(); // twice is harmless
    expect(budget.status().reserved_bytes).toBe(0);
  });

  it("admits a body larger than the whole budget, alone", async () => {
    const budget = new MemoryBudget();
    const small = await budget.acquire(10, 100, 5000);
    let admitted = false;
    const huge = budget.acquire(500, 100, 5000).then((r) => ((admitted = true), r));
    await tick();
    expect(admitted).toBe(false);
    small!();
    (await huge)!();
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
    held!();
    r!();
    expect(budget.status().reserved_bytes).toBe(0);
  });

  it("never holds more than its capacity but for one body alone, and grants in arrival order (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 25 }), async (steps) => {
        const budget = new MemoryBudget();
        const granted: number[] = [];
        const releases: (() => void)[] = [];
        let over = false;
        steps.forEach(([cost], i) => {
          void budget.acquire(cost, 100, 60_000).then((release) => {
            granted.push(i);
            const reserved = budget.status().reserved_bytes;
            if (reserved > 100 && reserved !== cost) over = true;
            releases.push(release!);
          });
        });
        // Release in a scrambled order until everything was granted.
        let round = 0;
        while (granted.length < steps.length || releases.length > 0) {
          await tick();
          const pick = releases.splice(steps[round % steps.length]![1] % Math.max(1, releases.length), 1)[0];
          pick?.();
          round++;
          if (round > 1000) throw new Error("stuck");
        }
        expect(over).toBe(false);
        expect(granted).toEqual(steps.map((_, i) => i));
        expect(budget.status()).toEqual({ reserved_bytes: 0, waiting: 0, refused: 0 });
      }),
      { numRuns: 60 },
    );
  });
});

describe("estimatedPeak", () => {
  it("counts JSON at 3× its bytes, model uploads at 2×, binary tensors at 1×", () => {
    expect(estimatedPeak("json", 1000)).toBe(3000);
    expect(estimatedPeak("upload", 1000)).toBe(2000);
    expect(estimatedPeak("binary", 1000)).toBe(1000);
  });
});
