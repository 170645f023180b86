/**
 * When the batcher runs a group: a lone caller at once; after a batch, it waits (up to the delay)
 * for as many; past the delay, for requests still on their way (up to the limit).
 */
import { describe, expect, it } from "vitest";
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Batcher", () => {
  it("runs a lone caller's requests one by one, at once", async () => {
    const { sizes, run } = recorder();
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: 60_000 });
    for (let i = 0; i < 3; i++) expect(Array.from((await batcher.submit([row(i)], ["y"]))[0]!.data as Float32Array)).toEqual([i, -i]);
    expect(sizes).toEqual([1, 1, 1]);
  });

  it("after a batch of three, holds the next group until three have joined, and gives each its own row", async () => {
    const { sizes, run } = recorder();
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: 60_000 });
    // Three arriving together: the first gives the others a turn to join.
    let onTheirWay = 2;
    const first = [0, 1, 2].map((i) => {
      const p = batcher.submit([row(i)], ["y"], () => onTheirWay);
      onTheirWay = Math.max(0, onTheirWay - 1);
      return p;
    });
    await Promise.all(first);
    expect(sizes).toEqual([3]);
    // Then one with none on its way: it waits for company rather than running alone...
    const late = [batcher.submit([row(10)], ["y"])];
    await sleep(20);
    expect(sizes).toEqual([3]);
    // ...which arrives, and the three run together well before the delay.
    late.push(batcher.submit([row(11)], ["y"]), batcher.submit([row(12)], ["y"]));
    const outputs = await Promise.all(late);
    expect(sizes).toEqual([3, 3]);
    expect(outputs.map((o) => Array.from(o[0]!.data as Float32Array))).toEqual([[10, -10], [11, -11], [12, -12]]);
  });

  it("waits no longer than the delay when the company never comes, then expects what arrived", async () => {
    const { sizes, run } = recorder();
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: 30 });
    let onTheirWay = 1;
    await Promise.all([0, 1].map((i) => {
      const p = batcher.submit([row(i)], ["y"], () => onTheirWay);
      onTheirWay = 0;
      return p;
    }));
    expect(sizes).toEqual([2]);
    const started = Date.now();
    await batcher.submit([row(5)], ["y"]); // waits out the 30 ms, then runs alone
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    await batcher.submit([row(6)], ["y"]); // the last run held one: at once
    expect(sizes).toEqual([2, 1, 1]);
  });

  it("past the delay, still waits for requests on their way, but no longer than the limit", async () => {
    const { sizes, run } = recorder();
    // Long enough that a stalled machine does not reach the limit (4× this) by the check below.
    const delay = 100;
    const batcher = new Batcher(run, { max_batch_size: 8, max_queue_delay_ms: delay });
    // One on its way: the first waits past its delay for it...
    let onTheirWay = 1;
    const first = batcher.submit([row(0)], ["y"], () => onTheirWay);
    await sleep(2 * delay);
    expect(sizes).toEqual([]);
    // ...and it joins when it arrives.
    onTheirWay = 0;
    const outputs = await Promise.all([first, batcher.submit([row(1)], ["y"], () => onTheirWay)]);
    expect(sizes).toEqual([2]);
    expect(outputs.map((o) => Array.from(o[0]!.data as Float32Array))).toEqual([[0, -0], [1, -1]]);
    // A request that never comes (a client slow to send its body) holds the group only to the limit.
    const started = Date.now();
    await batcher.submit([row(5)], ["y"], () => 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(INBOUND_WAIT_LIMIT * delay - 5);
    expect(sizes).toEqual([2, 1]);
  });
});
