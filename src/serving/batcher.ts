/**
 * @module serving/batcher: dynamic batching (Triton's dynamic batcher, TF Serving's batching).
 * Requests for one session that arrive together are concatenated along their batch dimension
 * (the first, unless the config's `batch_axes` names another for a tensor) into one run and the
 * outputs split back. Only requests that fit together are joined: the same outputs, datatypes and
 * shapes beyond the batch dimension, and the same values for inputs the batch shares
 * (`unbatched_inputs`, a sample rate say). A request joins only after it passed validation, and
 * if a joined run fails each request is run alone, so one bad request never spoils the others'.
 */
import { concatAlong, sliceAlong } from "../tensor/axis";
import type { Tensor } from "../tensor/tensor";
import type { LoadedSession, TensorSpec } from "./loader";
import { own } from "../own";

/** A model's batching settings (config.json `dynamic_batching`). */
export interface BatchingOptions {
  /** Most rows (first-dimension entries) in one run. */
  max_batch_size: number;
  /**
   * Longest a request waits for others to join it, milliseconds, while no other request for the
   * version is on its way in the isolate; while some are, it waits for them, up to
   * `INBOUND_WAIT_LIMIT` times this.
   */
  max_queue_delay_ms: number;
  /** Per input or output: the dimension that holds the batch, when it is not the first. */
  batch_axes?: Record<string, number>;
  /** Inputs the whole batch shares (not batched): only requests sending equal values join. */
  unbatched_inputs?: string[];
}

/** Most elements an unbatched input may have: its values are compared across requests. */
const MAX_SHARED_ELEMENTS = 64;

/** The dimension of tensor `name` that holds the batch: the one `batch_axes` names, else the first. */
export const axisOf = (options: Pick<BatchingOptions, "batch_axes"> | undefined, name: string) => own(options?.batch_axes, name) ?? 0;
/** Whether input `name` is shared by a batch (`unbatched_inputs`) rather than batched. */
export const isShared = (options: Pick<BatchingOptions, "unbatched_inputs"> | undefined, name: string) => options?.unbatched_inputs?.includes(name) ?? false;

/**
 * Why a model cannot be batched with `options`, or null if it can: every input but the shared
 * ones, and every output, needs a dynamic dimension at its batch axis.
 */
export function unbatchableReason(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], options?: Pick<BatchingOptions, "batch_axes" | "unbatched_inputs">): string | null {
  const names = new Set([...inputs, ...outputs].map((s) => s.name));
  for (const name of [...Object.keys(options?.batch_axes ?? {}), ...(options?.unbatched_inputs ?? [])]) {
    if (!names.has(name)) return `the model has no input or output '${name}'`;
  }
  for (const name of options?.unbatched_inputs ?? []) {
    if (!inputs.some((s) => s.name === name)) return `'${name}' is an output; only inputs can be unbatched`;
    if (own(options?.batch_axes, name) !== undefined) return `'${name}' cannot be both unbatched and batched along an axis`;
  }
  for (const s of [...inputs.filter((i) => !isShared(options, i.name)), ...outputs]) {
    const axis = axisOf(options, s.name);
    if (!(s.shape.length > axis && s.shape[axis] === -1)) {
      return `'${s.name}' has shape [${s.shape.join(",")}], with no dynamic dimension ${axis} to batch along${axis === 0 ? " (name another in batch_axes, or list the input in unbatched_inputs)" : ""}`;
    }
  }
  return null;
}

/** Whether a model can be batched (with `options`' axes and shared inputs). */
export const batchable = (inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], options?: Pick<BatchingOptions, "batch_axes" | "unbatched_inputs">): boolean =>
  unbatchableReason(inputs, outputs, options) === null;

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
  /** When it runs at the latest with no request on its way (performance.now() milliseconds). */
  deadline: number;
  /** When it runs at the latest, with requests on their way or not. */
  limit: number;
  /** Members to wait for before running with none on their way: the last run's size for this key. */
  expected: number;
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

  /**
   * Per group key: how many requests its last run held. A new group waits (up to the delay) for
   * as many before running early, since under steady load about as many are on their way.
   */
  private readonly lastSize = new Map<string, number>();

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
    const rows = this.rowsOf(inputs);
    if (rows === null || rows > this.options.max_batch_size) return this.alone(inputs, fetches, rows ?? 1);
    const key = `${fetches.join("\u0000")}\u0001${inputs
      .map((t) => {
        if (isShared(this.options, t.name)) return `${t.name}:${t.datatype}:${t.shape.join(",")}=${Array.from(t.data as ArrayLike<unknown>, String).join(",")}`;
        const axis = axisOf(this.options, t.name);
        return `${t.name}:${t.datatype}:${t.shape.filter((_, i) => i !== axis).join(",")}`;
      })
      .sort()
      .join("\u0000")}`;
    let group = this.open.get(key);
    if (!group || group.closed || group.rows + rows > this.options.max_batch_size) {
      if (group) this.close(group);
      const now = performance.now();
      const delay = this.options.max_queue_delay_ms;
      group = { key, fetches, items: [], rows: 0, closed: false, started: false, deadline: now + delay, limit: now + INBOUND_WAIT_LIMIT * delay, expected: this.lastSize.get(key) ?? 1 };
      this.open.set(key, group);
    }
    const index = group.items.push({ inputs, rows }) - 1;
    group.rows += rows;
    if (group.rows >= this.options.max_batch_size) this.close(group);
    return unwrap(await this.resultOf(group, index, inbound));
  }

  /**
   * Waits for the group's results, running it if this member is the first to find it due: full;
   * with no other request on its way and either at least as many members as the key's last run
   * held or past `max_queue_delay_ms`; or past `INBOUND_WAIT_LIMIT` times the delay. When others
   * are on their way it first gives one turn of the event loop, so requests already decoded can
   * join. A lone caller's last run held one, so its request runs at once (waiting even one timer
   * turn cut a lone request to 0.35 of its throughput in workerd). Under load the requests still
   * queued in workerd, not yet seen by the isolate, are what fills a batch, and the last run's size
   * is the best guess of how many there are: waiting for them grew the MLP's batches at 8
   * connections from 2 requests to 4–5 with a 2 ms delay (7–8 with 4–8 ms), and at 32 connections
   * to 13–23 with 4–8 ms. When load drops, one group waits out the delay and the next expects what
   * arrived.
   *
   * A group past its delay still waits for requests on their way: the isolate is busy reading
   * and decoding them, so running first gains those requests nothing, and they would start a
   * group of their own. With a 2 ms delay at 32 connections, the MLP's runs grew from 9 requests
   * to 15, and the Worker's CPU per batched request fell by about a tenth (bench/run.ts batching).
   */
  private async resultOf(group: Group, index: number, inbound: () => number): Promise<Tensor[] | { error: unknown }> {
    if (inbound() > 0) await tick(0);
    // The clock advances across timers; the tick count bounds the loop should it not.
    for (let ticks = 0; ; ticks++) {
      if (group.results) return group.results[index]!;
      const now = performance.now();
      const settled = inbound() === 0 && (group.items.length >= group.expected || now >= group.deadline);
      if (!group.started && (group.closed || settled || now >= group.limit || ticks >= MAX_TICKS)) {
        group.started = true;
        this.close(group);
        group.results = await this.execute(group);
        return group.results[index]!;
      }
      await tick(1);
    }
  }

  private remember(key: string, size: number): void {
    this.lastSize.delete(key);
    if (this.lastSize.size >= MAX_REMEMBERED_KEYS) this.lastSize.delete(this.lastSize.keys().next().value!);
    this.lastSize.set(key, size);
  }

  private close(group: Group): void {
    if (group.closed) return;
    group.closed = true;
    if (this.open.get(group.key) === group) this.open.delete(group.key);
  }

  /**
   * A request's batch size: what its batched inputs agree on along their batch axes; null when
   * they disagree, are empty, or a shared input is too large to compare (it then runs alone).
   */
  private rowsOf(inputs: readonly Tensor[]): number | null {
    let rows: number | null = null;
    for (const t of inputs) {
      if (isShared(this.options, t.name)) {
        if (t.data.length > MAX_SHARED_ELEMENTS) return null;
        continue;
      }
      const n = t.shape[axisOf(this.options, t.name)];
      if (n === undefined || n < 1 || (rows !== null && n !== rows)) return null;
      rows = n;
    }
    return rows;
  }

  private async alone(inputs: readonly Tensor[], fetches: readonly string[], rows: number): Promise<Tensor[]> {
    this.count(1);
    return this.observed(inputs, fetches, rows);
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
      for (const item of items) out.push(await this.alone(item.inputs, fetches, item.rows).catch((error: unknown) => ({ error })));
      return out;
    };
    this.remember(group.key, items.length);
    if (items.length === 1) return each();
    let outputs: Tensor[] | undefined;
    try {
      this.count(items.length);
      outputs = await this.observed(this.joined(items.map((i) => i.inputs)), fetches, group.rows);
      if (!outputs.every((t) => t.shape[axisOf(this.options, t.name)] === group.rows)) outputs = undefined;
    } catch {
      outputs = undefined;
    }
    // The joined run failed (or did not keep the batch dimension): each request on its own.
    if (!outputs) return each();
    let row = 0;
    return items.map((item) => {
      const slice = outputs.map((t) => sliceAlong(t, axisOf(this.options, t.name), row, item.rows));
      row += item.rows;
      return slice;
    });
  }

  /** Each input joined across requests along its batch axis (inputs matched by name); a shared input once. */
  private joined(requests: readonly (readonly Tensor[])[]): Tensor[] {
    return requests[0]!.map((t) =>
      isShared(this.options, t.name) ? t : concatAlong(requests.map((r) => r.find((x) => x.name === t.name)!), axisOf(this.options, t.name)),
    );
  }
}

/** Group keys whose last run size a batcher keeps (the least recently run are forgotten). */
const MAX_REMEMBERED_KEYS = 64;

/**
 * Longest a group waits, as a multiple of `max_queue_delay_ms`, for requests on their way (a
 * client slow to send its body is never waited for longer).
 */
export const INBOUND_WAIT_LIMIT = 4;

/** Timer turns a member waits before running the group regardless (the longest limit, 4 s, in 1 ms turns, and some). */
const MAX_TICKS = 5000;

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function unwrap(result: Tensor[] | { error: unknown }): Tensor[] {
  if (Array.isArray(result)) return result;
  throw result.error;
}

/** A session's batcher (or null: the model cannot batch so), and the settings it was made for. */
interface BatcherEntry {
  batcher: Batcher | null;
  options: BatchingOptions;
  key: string;
}

/** Each session's batcher (isolate-wide), replaced when the model's batching settings change. */
const batchers = new WeakMap<LoadedSession, BatcherEntry>();

/**
 * The batcher for `session` with `options`, or null if the model cannot be batched with them;
 * `onRun` hears of its runs. Worked out once per session and settings, not per request.
 */
export function batcherFor(session: LoadedSession, options: BatchingOptions, onRun?: OnRun): Batcher | null {
  const entry = batchers.get(session);
  if (entry?.options === options) return entry.batcher;
  const key = JSON.stringify(options);
  if (entry?.key === key) {
    entry.options = options;
    return entry.batcher;
  }
  const batcher = batchable(session.inputs, session.outputs, options) ? new Batcher((feeds, fetches) => session.run(feeds, fetches), { ...options }, onRun) : null;
  batchers.set(session, { batcher, options, key });
  return batcher;
}

/** The batcher `session` has, if any (for status). */
export const batcherOf = (session: LoadedSession): Batcher | undefined => batchers.get(session)?.batcher ?? undefined;
