/**
 * @module serving/batch-queue: the requests a batcher holds, in one queue ordered by priority
 * level (1 first) and then arrival, as Triton's dynamic batcher with priority levels. A request
 * leaves it when it runs, when its deadline passes, or when its client goes away.
 */
import type { Tensor } from "../tensor/tensor";
import type { Ticket } from "./schedule";

/** What a run leaves a request: its outputs, or what it failed with. */
export type Result = Tensor[] | { error: unknown };

/**
 * A request in the queue. No request depends on another to be woken: each polls the queue from
 * its own request context, and whichever finds a batch due runs it and leaves each member its
 * result. So a request whose context ends (its client gone) never strands the rest, and no
 * promise is settled across requests.
 */
export interface QueuedRequest {
  inputs: readonly Tensor[];
  fetches: readonly string[];
  rows: number;
  /** Requests with equal keys may run together. */
  key: string;
  /** False for a request that runs alone (its rows disagree, or exceed max_batch_size). */
  joins: boolean;
  ticket: Ticket;
  enqueuedAt: number;
  state: "queued" | "running" | "done" | "cancelled" | "expired";
  result?: Result;
}

/** The waiting requests of one session, highest priority level first. */
export class BatchQueue implements Iterable<QueuedRequest> {
  private readonly items: QueuedRequest[] = [];
  /** No deadline in the queue is before this. A removal may leave it lower, never higher. */
  private earliest = Infinity;

  get length(): number {
    return this.items.length;
  }

  /** The first request of the highest level waiting, if any. */
  get head(): QueuedRequest | undefined {
    return this.items[0];
  }

  [Symbol.iterator](): Iterator<QueuedRequest> {
    return this.items[Symbol.iterator]();
  }

  /** Requests waiting at priority level `priority`. */
  atLevel(priority: number): number {
    return this.items.filter((i) => i.ticket.priority === priority).length;
  }

  /** Places `item` after every request of its level or a higher one (lower number) and before the rest. */
  add(item: QueuedRequest): void {
    this.earliest = Math.min(this.earliest, item.ticket.deadline);
    let at = this.items.length;
    while (at > 0 && this.items[at - 1]!.ticket.priority > item.ticket.priority) at--;
    this.items.splice(at, 0, item);
  }

  /** Takes `item` out of the queue (if still in it), leaving it in `state`. */
  remove(item: QueuedRequest, state: QueuedRequest["state"]): void {
    const at = this.items.indexOf(item);
    if (at >= 0) this.items.splice(at, 1);
    item.state = state;
  }

  /** Takes every request whose deadline has passed out of the queue; returns how many. */
  expire(now: number): number {
    // Every waiting request checks on every turn: the queue is walked only once a deadline passed.
    if (!(now > this.earliest)) return 0;
    let expired = 0;
    let earliest = Infinity;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i]!;
      if (!(now > item.ticket.deadline)) {
        earliest = Math.min(earliest, item.ticket.deadline);
        continue;
      }
      this.items.splice(i, 1);
      item.state = "expired";
      expired++;
    }
    this.earliest = earliest;
    return expired;
  }
}
