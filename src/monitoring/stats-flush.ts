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

/** The isolate's request statistics, flushed to each model's statistics object. */
export const isolateStats = new StatsBuffer();

/** Whether a later flush is already waiting in some request's waitUntil. */
let flushScheduled = false;

/** Sends the taken deltas to each model's statistics object; a failed send is kept for the next. */
function send(c: Context<AppEnv>, taken: Map<string, TakenDeltas>): Promise<unknown> {
  return Promise.all(
    [...taken].map(([model, deltas]) =>
      c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model))
        .recordRequests({ model, ...deltas })
        .catch(() => isolateStats.putBack(model, deltas)),
    ),
  );
}

/**
 * After a response: sends what the isolate buffered if the flush interval has passed; otherwise
 * makes sure one flush is scheduled for when it has (inside this request's waitUntil), so counts
 * never wait for a later request to be sent.
 */
export function flushStats(c: Context<AppEnv>): void {
  const intervalMs = settings(c.env).STATS_FLUSH_MS;
  const defer = deferrer(c);
  const taken = isolateStats.take(Date.now(), intervalMs);
  if (taken) {
    defer(send(c, taken));
    return;
  }
  if (flushScheduled || isolateStats.empty) return;
  flushScheduled = true;
  defer(
    new Promise((resolve) => setTimeout(resolve, intervalMs)).then(() => {
      flushScheduled = false;
      const later = isolateStats.take(Date.now(), intervalMs);
      return later ? send(c, later) : undefined;
    }),
  );
}

/** Sends everything buffered now (before reading statistics, so this isolate's own are included). */
export async function flushNow(c: Context<AppEnv>): Promise<void> {
  const taken = isolateStats.take(Date.now(), 0);
  if (taken) await send(c, taken);
}
