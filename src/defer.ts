/** @module defer: running work after the response (the request's waitUntil). */
import type { Context } from "hono";

/**
 * A function that hands work to `c`'s waitUntil, so it may finish after the response is sent.
 * Without an execution context (a direct app.fetch call) the work just runs unawaited.
 */
export function deferrer(c: Context): (work: Promise<unknown>) => void {
  return (work) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      // no execution context
    }
  };
}
