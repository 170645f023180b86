/**
 * @module monitoring/timings: a request's phases and how long each took, for the Server-Timing
 * header and the request's log line. A deployed Worker's clock advances only across I/O, so phases
 * of pure computation (inference, encoding) read near 0 in production; phases that wait (key
 * lookup, rate limiter, model load) are real. Locally (workerd under wrangler) the clock runs
 * regardless, in whole milliseconds, so compute phases read to the millisecond there.
 */

/** Phase durations of one request, in the order first recorded. */
export class Timings {
  private readonly phases = new Map<string, number>();
  private readonly started = performance.now();

  /** Adds `ms` to `phase`. */
  add(phase: string, ms: number): void {
    this.phases.set(phase, (this.phases.get(phase) ?? 0) + ms);
  }

  /** Awaits `work`, adding its duration to `phase`. */
  async time<T>(phase: string, work: Promise<T>): Promise<T> {
    const at = performance.now();
    try {
      return await work;
    } finally {
      this.add(phase, performance.now() - at);
    }
  }

  /** Every phase and the total, milliseconds rounded to 0.01. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [phase, ms] of this.phases) out[phase] = round(ms);
    out.total = round(performance.now() - this.started);
    return out;
  }

  /** The Server-Timing header value (`name;dur=ms`), from `toJSON()` or figures already taken from it. */
  header(figures: Record<string, number> = this.toJSON()): string {
    return Object.entries(figures)
      .map(([phase, ms]) => `${phase};dur=${ms}`)
      .join(", ");
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Awaits `work`, timing it as `phase` when the request has timings (an app without requestLog has none). */
export function timed<T>(timings: Timings | undefined, phase: string, work: Promise<T>): Promise<T> {
  return timings ? timings.time(phase, work) : work;
}
