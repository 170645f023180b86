/**
 * @module serving/batcher: dynamic batching (Triton's dynamic batcher, TF Serving's batching).
 * Requests for one session that arrive together are concatenated along their first (batch)
 * dimension into one run and the outputs split back. Only requests that fit together are joined:
 * the same outputs, datatypes and shapes beyond the batch dimension. A request joins only after it
 * passed validation, and if a joined run fails each request is run alone, so one bad request never
 * spoils the others'.
 */
import type { TensorData } from "../tensor/datatype";
import type { Tensor } from "../tensor/tensor";
import type { LoadedSession, TensorSpec } from "./loader";

/** A model's batching settings (config.json `dynamic_batching`). */
export interface BatchingOptions {
  /** Most rows (first-dimension entries) in one run. */
  max_batch_size: number;
  /** Longest a request waits for others to join it, milliseconds. */
  max_queue_delay_ms: number;
}

/** Whether a model can be batched: every input and output has a dynamic first dimension. */
export function batchable(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[]): boolean {
  return [...inputs, ...outputs].every((s) => s.shape.length >= 1 && s.shape[0] === -1);
}

type Run = (feeds: readonly Tensor[], fetches: readonly string[]) => Promise<Tensor[]>;
/** Told of each successful run: its rows and run time. */
type OnRun = (rows: number, ms: number) => void;

interface Item {
  inputs: readonly Tensor[];
  rows: number;
}

/**
 * Requests waiting to run together. No member depends on another to be woken: each polls the
 * group from its own request context, the first to find it due runs it and leaves the results in
 * the group, and the others pick up their rows. So a member whose request is cancelled (its
 * client gone) never strands the rest, and no promise is settled across requests.
 */
interface Group {
  key: string;
  fetches: readonly string[];
  items: Item[];
  rows: number;
  /** Takes no more members (full, or about to run). */
  closed: boolean;
  /** A member has begun the run. */
  started: boolean;
  /** When it runs at the latest (performance.now() milliseconds). */
  deadline: number;
  /** Per item: its outputs, or the error its own run gave; set when the run is done. */
  results?: (Tensor[] | { error: unknown })[];
}

/** Counters, for tests and benchmarks. */
export interface BatcherStats {
  runs: number;
  requests: number;
  largestBatch: number;
}

/** Batches the runs of one session. */
export class Batcher {
  private readonly open = new Map<string, Group>();
  readonly stats: BatcherStats = { runs: 0, requests: 0, largestBatch: 0 };

  constructor(
    private readonly run: Run,
    readonly options: BatchingOptions,
    private readonly onRun: OnRun = () => undefined,
  ) {}

  /**
   * Runs `inputs` (already validated), joined with whatever compatible requests arrive meanwhile.
   * `inbound` tells how many other requests are still on their way to this session.
   */
  async submit(inputs: readonly Tensor[], fetches: readonly string[], inbound: () => number = () => 0): Promise<Tensor[]> {
    const rows = inputs[0]?.shape[0] ?? 0;
    const fits = rows > 0 && rows <= this.options.max_batch_size && inputs.every((t) => t.shape.length >= 1 && t.shape[0] === rows);
    if (!fits) return this.alone(inputs, fetches);
    const key = `${fetches.join("\u0000")}\u0001${inputs
      .map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join(",")}`)
      .sort()
      .join("\u0000")}`;
    let group = this.open.get(key);
    if (!group || group.closed || group.rows + rows > this.options.max_batch_size) {
      if (group) this.close(group);
      group = { key, fetches, items: [], rows: 0, closed: false, started: false, deadline: performance.now() + this.options.max_queue_delay_ms };
      this.open.set(key, group);
    }
    const index = group.items.push({ inputs, rows }) - 1;
    group.rows += rows;
    if (group.rows >= this.options.max_batch_size) this.close(group);
    return unwrap(await this.resultOf(group, index, inbound));
  }

  /**
   * Waits for the group's results, running it if this member is the first to find it due: full,
   * past `max_queue_delay_ms`, or with no other request on its way. When others are on their way
   * it first gives one turn of the event loop, so requests already decoded can join; when none
   * are, it runs at once (waiting even one timer turn cut a lone request to 0.35 of its
   * throughput in workerd). So a lone request is not held back, a full group runs at once, and the
   * delay is an upper bound.
   */
  private async resultOf(group: Group, index: number, inbound: () => number): Promise<Tensor[] | { error: unknown }> {
    if (inbound() > 0) await tick(0);
    // The clock advances across timers; the tick count bounds the loop should it not.
    for (let ticks = 0; ; ticks++) {
      if (group.results) return group.results[index]!;
      if (!group.started && (group.closed || inbound() === 0 || performance.now() >= group.deadline || ticks >= 4000)) {
        group.started = true;
        this.close(group);
        group.results = await this.execute(group);
        return group.results[index]!;
      }
      await tick(1);
    }
  }

  private close(group: Group): void {
    if (group.closed) return;
    group.closed = true;
    if (this.open.get(group.key) === group) this.open.delete(group.key);
  }

  private async alone(inputs: readonly Tensor[], fetches: readonly string[]): Promise<Tensor[]> {
    this.count(1);
    return this.observed(inputs, fetches, inputs[0]?.shape[0] ?? 1);
  }

  private async observed(inputs: readonly Tensor[], fetches: readonly string[], rows: number): Promise<Tensor[]> {
    const started = performance.now();
    const outputs = await this.run(inputs, fetches);
    this.onRun(rows, performance.now() - started);
    return outputs;
  }

  private count(requests: number): void {
    this.stats.runs++;
    this.stats.requests += requests;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, requests);
  }

  private async execute(group: Group): Promise<(Tensor[] | { error: unknown })[]> {
    const { items, fetches } = group;
    const each = async () => {
      const out: (Tensor[] | { error: unknown })[] = [];
      for (const item of items) out.push(await this.alone(item.inputs, fetches).catch((error: unknown) => ({ error })));
      return out;
    };
    if (items.length === 1) return each();
    let outputs: Tensor[] | undefined;
    try {
      this.count(items.length);
      outputs = await this.observed(concatInputs(items.map((i) => i.inputs)), fetches, group.rows);
      if (!outputs.every((t) => t.shape[0] === group.rows)) outputs = undefined;
    } catch {
      outputs = undefined;
    }
    // The joined run failed (or did not keep the batch dimension): each request on its own.
    if (!outputs) return each();
    let row = 0;
    return items.map((item) => {
      const slice = outputs.map((t) => sliceRows(t, row, item.rows));
      row += item.rows;
      return slice;
    });
  }
}

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function unwrap(result: Tensor[] | { error: unknown }): Tensor[] {
  if (Array.isArray(result)) return result;
  throw result.error;
}

/** Concatenates each input across requests along the first dimension (inputs matched by name). */
function concatInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  const first = requests[0]!;
  return first.map((t) => {
    const parts = requests.map((r) => r.find((x) => x.name === t.name)!);
    const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
    return { name: t.name, datatype: t.datatype, shape: [rows, ...t.shape.slice(1)], data: concatData(parts.map((p) => p.data)) };
  });
}

function concatData(parts: readonly TensorData[]): TensorData {
  if (Array.isArray(parts[0])) return (parts as string[][]).flat();
  const typed = parts as Exclude<TensorData, string[]>[];
  const total = typed.reduce((n, p) => n + p.length, 0);
  const Ctor = typed[0]!.constructor as new (n: number) => Exclude<TensorData, string[]>;
  const out = new Ctor(total);
  let at = 0;
  for (const p of typed) {
    (out as unknown as { set(a: ArrayLike<number | bigint>, at: number): void }).set(p as ArrayLike<number | bigint>, at);
    at += p.length;
  }
  return out;
}

/** Rows [start, start + count) of a tensor, as a copy. */
function sliceRows(t: Tensor, start: number, count: number): Tensor {
  const perRow = t.shape.slice(1).reduce((n, d) => n * d, 1);
  const data = t.data.slice(start * perRow, (start + count) * perRow) as TensorData;
  return { name: t.name, datatype: t.datatype, shape: [count, ...t.shape.slice(1)], data };
}

/** Each session's batcher (isolate-wide), replaced when the model's batching settings change. */
const batchers = new WeakMap<LoadedSession, Batcher>();

/** The batcher for `session` with `options`; `onRun` hears of its runs. */
export function batcherFor(session: LoadedSession, options: BatchingOptions, onRun?: OnRun): Batcher {
  let batcher = batchers.get(session);
  if (!batcher || batcher.options.max_batch_size !== options.max_batch_size || batcher.options.max_queue_delay_ms !== options.max_queue_delay_ms) {
    batcher = new Batcher((feeds, fetches) => session.run(feeds, fetches), { ...options }, onRun);
    batchers.set(session, batcher);
  }
  return batcher;
}

/** The batcher `session` has, if any (for status). */
export const batcherOf = (session: LoadedSession): Batcher | undefined => batchers.get(session);
