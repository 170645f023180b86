/**
 * @module monitoring/stats-flush: the isolate's statistics buffer and its flushing. After a
 * response, what the isolate buffered goes to each model's statistics object, at most once per
 * STATS_FLUSH_MS, inside the request's waitUntil: the prediction path never waits on it.
 */
import type { Context } from "hono";
import { deferrer } from "../defer";
import type { AppEnv } from "../env";
import { settings } from "../settings";
import { StatsBuffer, type TakenDeltas } from "./stats-buffer";

/** The isolate's request statistics, and whether a later flush of them is already scheduled. */
export class IsolateStats {
  /** What requests recorded since the last flush, sent to each model's statistics object. */
  readonly buffer = new StatsBuffer();
  /** Whether a later flush is already waiting in some request's waitUntil. */
  private flushScheduled = false;

  /**
   * After a response: sends what the isolate buffered if the flush interval has passed; otherwise
   * makes sure one flush is scheduled for when it has (inside this request's waitUntil), so counts
   * never wait for a later request to be sent.
   */
  afterResponse(c: Context<AppEnv>): void {
    const intervalMs = settings(c.env).STATS_FLUSH_MS;
    const defer = deferrer(c);
    const taken = this.buffer.take(Date.now(), intervalMs);
    if (taken) {
      defer(this.send(c, taken));
      return;
    }
    if (this.flushScheduled || this.buffer.empty) return;
    this.flushScheduled = true;
    defer(
      new Promise((resolve) => setTimeout(resolve, intervalMs)).then(() => {
        this.flushScheduled = false;
        const later = this.buffer.take(Date.now(), intervalMs);
        return later ? this.send(c, later) : undefined;
      }),
    );
  }

  /** Sends everything buffered now (before reading statistics, so this isolate's own are included). */
  async now(c: Context<AppEnv>): Promise<void> {
    const taken = this.buffer.take(Date.now(), 0);
    if (taken) await this.send(c, taken);
  }

  /** Sends the taken deltas to each model's statistics object; a failed send is kept for the next. */
  private send(c: Context<AppEnv>, taken: Map<string, TakenDeltas>): Promise<unknown> {
    return Promise.all(
      [...taken].map(([model, deltas]) =>
        c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model))
          .recordRequests({ model, ...deltas })
          .catch(() => this.buffer.putBack(model, deltas)),
      ),
    );
  }
}

/** After a response: flushes the isolate's statistics when due (see IsolateStats.afterResponse). */
export const flushStats = (c: Context<AppEnv>): void => c.var.core.stats.afterResponse(c);

/** Sends the isolate's statistics now, before a read of them. */
export const flushNow = (c: Context<AppEnv>): Promise<void> => c.var.core.stats.now(c);
