/**
 * @module serving/batcher-registry: each loaded session's batcher, made once per session and
 * batching settings rather than per request, and dropped with the session.
 */
import type { LoadedSession } from "./loader";
import { batchable } from "./batch-axes";
import type { BatchingOptions } from "./batching-config";
import { Batcher, type OnRun } from "./batcher";
import { performanceClock, type Clock } from "./schedule";

/** A session's batcher (or null: the model cannot batch so), and the settings it was made for. */
interface BatcherEntry {
  batcher: Batcher | null;
  options: BatchingOptions;
  key: string;
}

/** Each session's batcher, replaced when the model's batching settings change. */
export class BatcherRegistry {
  // Weak, so a session the manager evicts takes its batcher with it.
  private readonly entries = new WeakMap<LoadedSession, BatcherEntry>();

  /** `clock`: the isolate's scheduling clock, which every batcher reads its delays from. */
  constructor(private readonly clock: Clock = performanceClock()) {}

  /**
   * The batcher for `session` with `options`, or null if the model cannot be batched with them;
   * `onRun` hears of its runs.
   */
  batcherFor(session: LoadedSession, options: BatchingOptions, onRun?: OnRun): Batcher | null {
    const entry = this.entries.get(session);
    if (entry?.options === options) return entry.batcher;
    // A config read again is a new object with the same settings: its batcher (and queue) stays.
    const key = JSON.stringify(options);
    if (entry?.key === key) {
      entry.options = options;
      return entry.batcher;
    }
    const batcher = batchable(session.inputs, session.outputs, options) ? new Batcher((feeds, fetches) => session.run(feeds, fetches), { ...options }, onRun, this.clock) : null;
    this.entries.set(session, { batcher, options, key });
    return batcher;
  }

  /** The batcher `session` has, if any (for status). */
  batcherOf(session: LoadedSession): Batcher | undefined {
    return this.entries.get(session)?.batcher ?? undefined;
  }
}
