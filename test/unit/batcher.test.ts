/**
 * When the batcher runs a group: a lone caller at once; after a batch, it waits (up to the delay)
 * for as many; past the delay, for requests still on their way (up to the limit).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { axisOf, unbatchableReason } from "../../src/serving/batch-axes";
import { Batcher, INBOUND_WAIT_LIMIT } from "../../src/serving/batcher";
import type { Tensor } from "../../src/tensor/tensor";

/** A row-wise identity "model" that records each run's batch size. */
function recorder() {
  const sizes: number[] = [];
  const run = async (inputs: readonly Tensor[]) => {
    sizes.push(inputs[0]!.shape[0]!);
    return [{ ...inputs[0]!, name: "y" }];
  };
  return { sizes, run };
}

const row = (v: number): Tensor => ({ name: "x", datatype: "FP32", shape: [1, 2], data: new Float32Array([v, -v]) });

/** A clock that stands still until told to move: the batcher's delays pass only when a test says. */
function manualClock() {
  return { t: 1000, now() { return this.t; } };
}

/** A few turns of the event loop (1 ms timers, as the batcher's own polling): time enough for any due batch to run. */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 1));
};

describe("Batcher", () => {
  it("runs a lone caller's requests one by one, at once", async () => {
    const { sizes, run } = recorder();
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: 60_000 }, undefined, manualClock());
    for (let i = 0; i < 3; i++) expect(Array.from((await batcher.submit([row(i)], ["y"]))[0]!.data as Float32Array)).toEqual([i, -i]);
    expect(sizes).toEqual([1, 1, 1]);
  });

  it("after a batch of three, holds the next group until three have joined, and gives each its own row", async () => {
    const { sizes, run } = recorder();
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: 60_000 }, undefined, manualClock());
    // Three arriving together: the first gives the others a turn to join.
    let onTheirWay = 2;
    const first = [0, 1, 2].map((i) => {
      const p = batcher.submit([row(i)], ["y"], { inbound: () => onTheirWay });
      onTheirWay = Math.max(0, onTheirWay - 1);
      return p;
    });
    await Promise.all(first);
    expect(sizes).toEqual([3]);
    // Then one with none on its way: it waits for company rather than running alone...
    const late = [batcher.submit([row(10)], ["y"])];
    await turns();
    expect(sizes).toEqual([3]);
    // ...which arrives, and the three run together, the clock never having reached the delay.
    late.push(batcher.submit([row(11)], ["y"]), batcher.submit([row(12)], ["y"]));
    const outputs = await Promise.all(late);
    expect(sizes).toEqual([3, 3]);
    expect(outputs.map((o) => Array.from(o[0]!.data as Float32Array))).toEqual([[10, -10], [11, -11], [12, -12]]);
  });

  it("waits no longer than the delay when the company never comes, then expects what arrived", async () => {
    const { sizes, run } = recorder();
    const clock = manualClock();
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: 30 }, undefined, clock);
    let onTheirWay = 1;
    await Promise.all([0, 1].map((i) => {
      const p = batcher.submit([row(i)], ["y"], { inbound: () => onTheirWay });
      onTheirWay = 0;
      return p;
    }));
    expect(sizes).toEqual([2]);
    const alone = batcher.submit([row(5)], ["y"]); // waits for a second request, up to the delay
    clock.t += 29;
    await turns();
    expect(sizes).toEqual([2]);
    clock.t += 1;
    await alone; // the delay reached: it runs alone
    await batcher.submit([row(6)], ["y"]); // the last run held one: at once
    expect(sizes).toEqual([2, 1, 1]);
  });

  it("past the delay, still waits for requests on their way, but no longer than the limit", async () => {
    const { sizes, run } = recorder();
    const clock = manualClock();
    const delay = 100;
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: delay }, undefined, clock);
    // One on its way: the first waits past its delay for it...
    let onTheirWay = 1;
    const first = batcher.submit([row(0)], ["y"], { inbound: () => onTheirWay });
    clock.t += 2 * delay;
    await turns();
    expect(sizes).toEqual([]);
    // ...and it joins when it arrives.
    onTheirWay = 0;
    const outputs = await Promise.all([first, batcher.submit([row(1)], ["y"], { inbound: () => onTheirWay })]);
    expect(sizes).toEqual([2]);
    expect(outputs.map((o) => Array.from(o[0]!.data as Float32Array))).toEqual([[0, -0], [1, -1]]);
    // A request that never comes (a client slow to send its body) holds the batch only to the limit.
    const held = batcher.submit([row(5)], ["y"], { inbound: () => 1 });
    clock.t += INBOUND_WAIT_LIMIT * delay - 1;
    await turns();
    expect(sizes).toEqual([2]);
    clock.t += 1;
    await held;
    expect(sizes).toEqual([2, 1]);
  });

  it("gives every request exactly its own rows back, in runs no larger than max_batch_size, however requests arrive (fast-check)", async () => {
    // Requests of 1–4 rows (some over the batch size, some with a second output set), arriving in
    // waves; the "model" doubles each row and fails a run holding a row of -1, as a bad input would.
    const request = fc.record({ rows: fc.integer({ min: 1, max: 4 }), other: fc.boolean(), poisoned: fc.boolean() });
    const scenario = fc.record({
      max: fc.integer({ min: 1, max: 6 }),
      delay: fc.constantFrom(0, 1, 3),
      waves: fc.array(fc.record({ pause: fc.constantFrom(0, 1, 5), requests: fc.array(request, { minLength: 1, maxLength: 8 }) }), { minLength: 1, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ max, delay, waves }) => {
        const runs: number[] = [];
        const run = async (inputs: readonly Tensor[], fetches: readonly string[]) => {
          const x = inputs[0]!.data as Float32Array;
          if (x.includes(-1)) throw new Error("bad row");
          runs.push(inputs[0]!.shape[0]!);
          return fetches.map((name) => ({ ...inputs[0]!, name, data: x.map((v) => 2 * v) }));
        };
        const clock = manualClock();
        const batcher = new Batcher(run, { max_batch_size: max, max_queue_delay_ms: delay }, undefined, clock);
        let next = 1;
        const pending: Promise<void>[] = [];
        for (const wave of waves) {
          for (const r of wave.requests) {
            const values = Array.from({ length: r.rows }, (_, i) => (r.poisoned && i === 0 ? -1 : next++));
            const input: Tensor = { name: "x", datatype: "FP32", shape: [r.rows, 1], data: Float32Array.from(values) };
            const fetches = r.other ? ["y", "z"] : ["y"];
            pending.push(
              batcher.submit([input], fetches).then(
                (out) => {
                  expect(r.poisoned).toBe(false);
                  expect(out.map((t) => t.name)).toEqual(fetches);
                  for (const t of out) expect(Array.from(t.data as Float32Array)).toEqual(values.map((v) => 2 * v));
                },
                (e: unknown) => {
                  expect(r.poisoned).toBe(true);
                  expect((e as Error).message).toBe("bad row");
                },
              ),
            );
          }
          if (wave.pause) {
            clock.t += wave.pause;
            await turns(1);
          }
        }
        // Past every delay: whatever still waits for company runs.
        clock.t += 1000;
        await Promise.all(pending);
        // A request over the batch size runs alone; a joined run never holds more than max rows.
        const alone = waves.flatMap((w) => w.requests).filter((r) => r.rows > max && !r.poisoned).map((r) => r.rows);
        for (const n of runs) expect(n <= max || alone.includes(n)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe("batch axes", () => {
  it("are the config's own keys: a tensor named like an inherited member batches along its first dimension", () => {
    const spec = (name: string) => ({ name, datatype: "FP32" as const, shape: [-1, 2] });
    expect(axisOf({ batch_axes: { y: 1 } }, "constructor")).toBe(0);
    expect(axisOf({ batch_axes: { constructor: 1 } }, "constructor")).toBe(1);
    expect(unbatchableReason([spec("constructor")], [spec("toString")], { batch_axes: {}, unbatched_inputs: [] })).toBeNull();
  });
});
