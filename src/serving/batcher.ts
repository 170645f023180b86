/**
 * @module serving/batcher: dynamic batching (Triton's dynamic batcher, TF Serving's batching).
 * Requests for one session that arrive together are concatenated along their batch dimension
 * into one run and the outputs split back; serving/batch-join says which requests fit together.
 * A request joins only after it passed validation, and if a joined run fails each request is run
 * alone, so one bad request never spoils the others'. Requests wait in one queue per session
 * (serving/batch-queue), which they leave unrun when their deadline passes or their client goes
 * away (serving/schedule, docs/scheduling.md). serving/batcher-registry gives each session its own.
 */
import type { Tensor } from "../tensor/tensor";
import { BatchQueue, type QueuedRequest, type Result } from "./batch-queue";
import { batchKey, batchRows, joinInputs, keepsBatch, splitOutputs } from "./batch-join";
import type { BatchingOptions } from "./batching-config";
import { answerDropped, cancelledInQueue, deadlineExceeded, queueFull, queuePolicyOf, performanceClock, type Clock, type Ticket } from "./schedule";

type Run = (feeds: readonly Tensor[], fetches: readonly string[]) => Promise<Tensor[]>;
/** Told of each successful run: its rows and run time. */
export type OnRun = (rows: number, ms: number) => void;

/** Counters, for tests, benchmarks and the admin API. */
export interface BatcherStats {
  runs: number;
  requests: number;
  largestBatch: number;
  /** Requests whose deadline passed before they ran (504): never run. */
  timedOut: number;
  /** Requests refused at once because their priority level's queue was full (503). */
  rejected: number;
  /** Requests whose client went away while they waited: they left the queue, never run. */
  cancelled: number;
  /** Requests whose client went away while they ran: their answers were dropped. */
  dropped: number;
}

/** What `submit` needs to know of a request besides its tensors. */
export interface Submission {
  /** Its priority, deadline and abort signal; default: level 1, no deadline. */
  ticket?: Ticket;
  /** How many other requests are still on their way to this session. */
  inbound?: () => number;
}

/**
 * Batches the runs of one session, one run at a time, from one queue ordered by priority level
 * (1 first) and then arrival, as Triton's dynamic batcher with priority levels.
 */
export class Batcher {
  private readonly queue = new BatchQueue();
  private running = false;
  /** Numbers the keys of requests that run alone. */
  private seq = 0;
  readonly stats: BatcherStats = { runs: 0, requests: 0, largestBatch: 0, timedOut: 0, rejected: 0, cancelled: 0, dropped: 0 };

  /**
   * Per batch key: how many requests its last run held. A batch waits (up to the delay) for as
   * many before running early, since under steady load about as many are on their way.
   */
  private readonly lastSize = new Map<string, number>();

  constructor(
    private readonly run: Run,
    readonly options: BatchingOptions,
    private readonly onRun: OnRun = () => undefined,
    private readonly clock: Clock = performanceClock(),
  ) {}

  /** Requests waiting in the queue now (Triton's pending request count). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Runs `inputs` (already validated), joined with whatever compatible requests are queued
   * meanwhile. Refused at once when its priority level's queue is full (503) or its deadline has
   * passed (504); leaves the queue unrun if its deadline passes (504) or its client goes away
   * (499) before it runs. A request whose client went away while it ran gets no answer (499).
   */
  async submit(inputs: readonly Tensor[], fetches: readonly string[], { ticket = NO_TICKET, inbound = () => 0 }: Submission = {}): Promise<Tensor[]> {
    const now = this.clock.now();
    if (ticket.signal?.aborted) throw this.count("cancelled", cancelledInQueue());
    if (now > ticket.deadline) throw this.count("timedOut", deadlineExceeded(ticket, now));
    const max = queuePolicyOf(this.options, ticket.priority).max_queue_size ?? 0;
    if (max > 0 && this.queue.atLevel(ticket.priority) >= max) throw this.count("rejected", queueFull(ticket.priority, max));
    const rows = batchRows(this.options, inputs);
    const joins = rows !== null && rows <= this.options.max_batch_size;
    const key = joins ? batchKey(this.options, inputs, fetches) : `\u0002${this.seq++}`;
    const item: QueuedRequest = { inputs, fetches, rows: rows ?? 1, key, joins, ticket, enqueuedAt: now, state: "queued" };
    this.queue.add(item);
    const leave = () => {
      if (item.state !== "queued") return;
      this.queue.remove(item, "cancelled");
      this.stats.cancelled++;
    };
    ticket.signal?.addEventListener("abort", leave);
    try {
      const result = await this.resultOf(item, inbound);
      if (ticket.signal?.aborted) throw answerDropped();
      return unwrap(result);
    } finally {
      ticket.signal?.removeEventListener("abort", leave);
    }
  }

  private count<E>(counter: "timedOut" | "rejected" | "cancelled", error: E): E {
    this.stats[counter]++;
    return error;
  }

  /**
   * Waits for the request's result, running the batch at the head of the queue whenever one is
   * due and no run is under way. The head is the first request of the highest level; its batch
   * is it and the queued requests that fit with it, in queue order, up to max_batch_size rows.
   * It is due when full; with no other request on its way and either at least as many members as
   * its key's last run held or its oldest member past `max_queue_delay_ms`; or past
   * `INBOUND_WAIT_LIMIT` times the delay. When others are on their way it first gives one turn of
   * the event loop, so requests already decoded can join. A lone caller's last run held one, so
   * its request runs at once: even one timer turn costs a lone request much of its throughput.
   * Under load the requests still queued in workerd, not yet seen by the isolate, are what fills a
   * batch, and the last run's size is the best guess of how many there are. When load drops, one
   * batch waits out the delay and the next expects what arrived.
   *
   * A batch past its delay still waits for requests on their way: the isolate is busy reading
   * and decoding them, so running first gains those requests nothing, and they would start a
   * batch of their own (docs/runtime.md has the measurements).
   */
  private async resultOf(item: QueuedRequest, inbound: () => number): Promise<Result> {
    if (inbound() > 0) await tick(0);
    // The clock may stand still (workerd's advances across I/O, a test's when told): the tick count bounds the wait.
    for (let ticks = 0; ; ticks++) {
      const now = this.clock.now();
      this.stats.timedOut += this.queue.expire(now);
      if (item.state === "done") return item.result!;
      if (item.state === "cancelled") throw cancelledInQueue();
      if (item.state === "expired") throw deadlineExceeded(item.ticket, now);
      // Overdue, it runs even beside a run under way: a run whose request context ended unfinished must not stall the queue.
      const overdue = ticks >= MAX_TICKS;
      const batch = this.running && !overdue ? null : this.due(now, inbound, overdue);
      if (batch) await this.execute(batch);
      else await tick(1);
    }
  }

  /** The batch at the head of the queue, if it is due. */
  private due(now: number, inbound: () => number, overdue: boolean): QueuedRequest[] | null {
    const head = this.queue.head;
    if (!head) return null;
    if (!head.joins) return [head];
    // Sized first, without building it: every waiting request asks on every turn.
    const max = this.options.max_batch_size;
    let members = 0;
    let rows = 0;
    let full = false;
    let oldest = head.enqueuedAt;
    for (const item of this.queue) {
      if (item.key !== head.key) continue;
      if (rows + item.rows > max) {
        full = true;
        break;
      }
      members++;
      rows += item.rows;
      oldest = Math.min(oldest, item.enqueuedAt);
    }
    const delay = this.options.max_queue_delay_ms;
    full ||= rows >= max;
    const settled = () => inbound() === 0 && (members >= (this.lastSize.get(head.key) ?? 1) || now >= oldest + delay);
    if (!(full || overdue || now >= oldest + INBOUND_WAIT_LIMIT * delay || settled())) return null;
    const batch: QueuedRequest[] = [];
    for (const item of this.queue) if (item.key === head.key && batch.length < members) batch.push(item);
    return batch;
  }

  private remember(key: string, size: number): void {
    this.lastSize.delete(key);
    if (this.lastSize.size >= MAX_REMEMBERED_KEYS) this.lastSize.delete(this.lastSize.keys().next().value!);
    this.lastSize.set(key, size);
  }

  private async alone(item: QueuedRequest): Promise<Tensor[]> {
    this.counted(1);
    return this.observed(item.inputs, item.fetches, item.rows);
  }

  private async observed(inputs: readonly Tensor[], fetches: readonly string[], rows: number): Promise<Tensor[]> {
    const started = performance.now();
    const outputs = await this.run(inputs, fetches);
    this.onRun(rows, performance.now() - started);
    return outputs;
  }

  private counted(requests: number): void {
    this.stats.runs++;
    this.stats.requests += requests;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, requests);
  }

  /** Runs `batch` (taken out of the queue), leaving each member its result. */
  private async execute(batch: QueuedRequest[]): Promise<void> {
    this.running = true;
    for (const item of batch) this.queue.remove(item, "running");
    try {
      const results = await this.results(batch);
      batch.forEach((item, i) => {
        item.result = results[i];
        item.state = "done";
        if (item.ticket.signal?.aborted) this.stats.dropped++;
      });
    } finally {
      this.running = false;
    }
  }

  private async results(items: QueuedRequest[]): Promise<Result[]> {
    const each = async () => {
      const out: Result[] = [];
      for (const item of items) out.push(await this.alone(item).catch((error: unknown) => ({ error })));
      return out;
    };
    const key = items[0]!.key;
    if (items[0]!.joins) this.remember(key, items.length);
    if (items.length === 1) return each();
    const rows = items.reduce((n, i) => n + i.rows, 0);
    let outputs: Tensor[] | undefined;
    try {
      this.counted(items.length);
      outputs = await this.observed(joinInputs(this.options, items.map((i) => i.inputs)), items[0]!.fetches, rows);
      if (!keepsBatch(this.options, outputs, rows)) outputs = undefined;
    } catch {
      outputs = undefined;
    }
    // The joined run failed (or did not keep the batch dimension): each request on its own.
    if (!outputs) return each();
    return splitOutputs(this.options, outputs, items.map((i) => i.rows));
  }
}

/** A request with no ticket: the top level, no deadline, no signal. */
const NO_TICKET: Ticket = { priority: 1, deadline: Infinity, timeoutUs: 0 };

/** Batch keys whose last run size a batcher keeps (the least recently run are forgotten). */
const MAX_REMEMBERED_KEYS = 64;

/**
 * Longest a batch waits, as a multiple of `max_queue_delay_ms`, for requests on their way (a
 * client slow to send its body is never waited for longer).
 */
export const INBOUND_WAIT_LIMIT = 4;

/** Timer turns a request waits before running the head's batch regardless (the longest limit, 4 s, in 1 ms turns, and some). */
const MAX_TICKS = 5000;

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function unwrap(result: Tensor[] | { error: unknown }): Tensor[] {
  if (Array.isArray(result)) return result;
  throw result.error;
}
