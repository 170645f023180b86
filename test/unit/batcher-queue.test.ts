/**
 * The batcher's queue (Triton's schedule policy): priority levels, deadlines, the queue bound and
 * clients that go away. Time is the test's clock; a run is held open by a gate, so requests queue.
 */
import { describe, expect, it } from "vitest";
import { Batcher } from "../../src/serving/batcher";
import type { BatchingOptions } from "../../src/serving/batching-config";
import { ServingError } from "../../src/errors";
import type { Ticket } from "../../src/serving/schedule";
import type { Tensor } from "../../src/tensor/tensor";

const row = (v: number): Tensor => ({ name: "x", datatype: "FP32", shape: [1, 1], data: new Float32Array([v]) });

/** A clock that stands still until told to move. */
function manualClock() {
  return { t: 1000, now() { return this.t; } };
}

/** A few turns of the event loop: time enough for any due batch to run. */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 1));
};

/** A row-wise identity model whose first run waits until `release()`, recording each run's rows. */
function gated() {
  const runs: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const run = async (inputs: readonly Tensor[]) => {
    runs.push(Array.from(inputs[0]!.data as Float32Array));
    if (runs.length === 1) await gate;
    return [{ ...inputs[0]!, name: "y" }];
  };
  return { runs, run, release };
}

/** A batcher whose first request (row 0) is running, held, so the next ones queue. */
function heldBatcher(options: Partial<BatchingOptions> = {}) {
  const clock = manualClock();
  const model = gated();
  const batcher = new Batcher(model.run, { max_batch_size: 2, max_queue_delay_ms: 0, ...options }, undefined, clock);
  const first = batcher.submit([row(0)], ["y"]);
  return { clock, batcher, first, ...model };
}

const ticket = (priority: number, extra: Partial<Ticket> = {}): Ticket => ({ priority, deadline: Infinity, timeoutUs: 0, ...extra });

/** The error a promise rejects with. */
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a rejection"); }, (e: unknown) => e as ServingError);

describe("the batcher's queue", () => {
  it("runs a held queue by priority level, first come first served within a level", async () => {
    const { batcher, first, runs, release } = heldBatcher({ priority_levels: 3, default_priority_level: 2 });
    await turns();
    expect(runs).toEqual([[0]]);
    const answers = [
      batcher.submit([row(1)], ["y"], { ticket: ticket(3) }),
      batcher.submit([row(2)], ["y"], { ticket: ticket(2) }),
      batcher.submit([row(3)], ["y"], { ticket: ticket(1) }),
      batcher.submit([row(4)], ["y"], { ticket: ticket(3) }),
      batcher.submit([row(5)], ["y"], { ticket: ticket(1) }),
    ];
    release();
    await Promise.all([first, ...answers]);
    // Two rows a run: level 1's two, then level 2's and the first of level 3, then the last.
    expect(runs).toEqual([[0], [3, 5], [2, 1], [4]]);
    expect((await answers[0]!).map((t) => Array.from(t.data as Float32Array))).toEqual([[1]]);
  });

  it("refuses a request whose deadline passes while it waits, without running it", async () => {
    const { clock, batcher, first, runs, release } = heldBatcher();
    await turns();
    // A 1 µs timeout, from now.
    const late = failure(batcher.submit([row(1)], ["y"], { ticket: ticket(1, { deadline: clock.t + 0.001, timeoutUs: 1 }) }));
    const patient = batcher.submit([row(2)], ["y"], { ticket: ticket(1, { deadline: clock.t + 10_000, timeoutUs: 10_000_000 }) });
    clock.t += 1;
    const error = await late;
    expect(error).toBeInstanceOf(ServingError);
    expect(error.status).toBe(504);
    expect(error.message).toContain("past its timeout of 1 µs, and was not run");
    release();
    await Promise.all([first, patient]);
    expect(runs).toEqual([[0], [2]]);
    expect(batcher.stats).toMatchObject({ runs: 2, requests: 2, timedOut: 1 });
  });

  it("refuses at once a request whose deadline passed before it reached the queue", async () => {
    const clock = manualClock();
    const { runs, run } = gated();
    const batcher = new Batcher(run, { max_batch_size: 2, max_queue_delay_ms: 0 }, undefined, clock);
    const error = await failure(batcher.submit([row(1)], ["y"], { ticket: ticket(1, { deadline: clock.t - 0.001, timeoutUs: 1 }) }));
    expect(error.status).toBe(504);
    expect(runs).toEqual([]);
    expect(batcher.stats).toMatchObject({ runs: 0, requests: 0, timedOut: 1 });
  });

  it("refuses at once with 503 and Retry-After a request its level's full queue has no room for", async () => {
    const { batcher, first, runs, release } = heldBatcher({ priority_levels: 2, default_priority_level: 2, default_queue_policy: { max_queue_size: 2 } });
    await turns();
    const queued = [batcher.submit([row(1)], ["y"], { ticket: ticket(2) }), batcher.submit([row(2)], ["y"], { ticket: ticket(2) })];
    const error = await failure(batcher.submit([row(3)], ["y"], { ticket: ticket(2) }));
    expect(error.status).toBe(503);
    expect(error.headers["Retry-After"]).toBe("1");
    expect(error.message).toContain("max_queue_size, 2 requests");
    // Each level has a queue of its own, as in Triton.
    const other = batcher.submit([row(4)], ["y"], { ticket: ticket(1) });
    release();
    await Promise.all([first, ...queued, other]);
    expect(runs.flat().sort()).toEqual([0, 1, 2, 4]);
    expect(batcher.stats).toMatchObject({ rejected: 1 });
  });

  it("bounds a level by its own policy where priority_queue_policy gives one", async () => {
    const { batcher, first, release } = heldBatcher({ priority_levels: 2, default_priority_level: 2, priority_queue_policy: { "1": { max_queue_size: 1 } } });
    await turns();
    const queued = [batcher.submit([row(1)], ["y"], { ticket: ticket(1) }), batcher.submit([row(2)], ["y"], { ticket: ticket(2) }), batcher.submit([row(3)], ["y"], { ticket: ticket(2) })];
    expect((await failure(batcher.submit([row(4)], ["y"], { ticket: ticket(1) }))).message).toContain("queue for priority level 1 is full (max_queue_size, 1 requests)");
    release();
    await Promise.all([first, ...queued]);
    expect(batcher.stats).toMatchObject({ rejected: 1, requests: 4 });
  });

  it("takes a request whose client goes away out of the queue, never running it", async () => {
    const { batcher, first, runs, release } = heldBatcher();
    await turns();
    const leaving = new AbortController();
    const gone = failure(batcher.submit([row(1)], ["y"], { ticket: ticket(1, { signal: leaving.signal }) }));
    const staying = batcher.submit([row(2)], ["y"]);
    leaving.abort();
    const error = await gone;
    expect(error.status).toBe(499);
    expect(error.message).toContain("was not run");
    release();
    await Promise.all([first, staying]);
    expect(runs).toEqual([[0], [2]]);
    expect(batcher.stats).toMatchObject({ cancelled: 1, dropped: 0, requests: 2 });
  });

  it("finishes a run whose client went away meanwhile, and drops its answer", async () => {
    const clock = manualClock();
    const { runs, run, release } = gated();
    const batcher = new Batcher(run, { max_batch_size: 2, max_queue_delay_ms: 0 }, undefined, clock);
    const leaving = new AbortController();
    const answer = failure(batcher.submit([row(7)], ["y"], { ticket: ticket(1, { signal: leaving.signal }) }));
    await turns();
    expect(runs).toEqual([[7]]);
    leaving.abort();
    release();
    const error = await answer;
    expect(error.status).toBe(499);
    expect(error.message).toContain("answer was dropped");
    expect(batcher.stats).toMatchObject({ runs: 1, cancelled: 0, dropped: 1 });
  });

  it("refuses at once a request whose client has already gone", async () => {
    const { runs, run } = gated();
    const batcher = new Batcher(run, { max_batch_size: 2, max_queue_delay_ms: 0 }, undefined, manualClock());
    const error = await failure(batcher.submit([row(1)], ["y"], { ticket: ticket(1, { signal: AbortSignal.abort() }) }));
    expect(error.status).toBe(499);
    expect(runs).toEqual([]);
  });
});
