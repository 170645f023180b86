/**
 * @module http/memory-budget: the isolate's memory for request bodies in flight. Each body's peak
 * is estimated from its declared length (a JSON body peaks at 2–3× its size: the text, the parsed
 * arrays, the typed array, onnxruntime's copy; a binary one under 1×; a model upload at its size
 * plus onnxruntime's copy; `npm run bench -- heap`), and the requests whose estimates would take
 * the isolate past REQUEST_MEMORY_BUDGET_BYTES wait, in arrival order, for others to finish; after
 * REQUEST_MEMORY_WAIT_MS a 503. One request's limit (MAX_JSON_REQUEST_BYTES) cannot stop two
 * such requests at once from taking an isolate past its 128 MB, which ends every request in it.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv, BodyKind } from "../env";
import { ServingError } from "../errors";
import { decompress } from "./content-coding";
import { numberVar } from "../vars";

/** Peak memory per body byte, measured (`npm run bench -- heap`: JSON 1.9–3.0×, binary 0.6–1.0×). */
const PEAK_PER_BYTE: Record<BodyKind, number> = { json: 3, binary: 1, upload: 2 };

/** The estimated peak of a body of `bytes` bytes. */
export const estimatedPeak = (kind: BodyKind, bytes: number): number => Math.ceil(PEAK_PER_BYTE[kind] * bytes);

const DEFAULT_BUDGET_BYTES = 48 * 1024 * 1024;
const DEFAULT_WAIT_MS = 5000;

interface Waiter {
  cost: number;
  grant: () => void;
}

/** Bytes held of a budget, until released. */
export interface Reservation {
  /** Gives the bytes back (safe to call twice). */
  release(): void;
  /** Lowers the bytes held to `cost` (never raises them), letting in those waiting that now fit. */
  shrink(cost: number): void;
}

/** A byte budget shared by the requests in flight: first come, first admitted. */
export class MemoryBudget {
  private reserved = 0;
  private readonly queue: Waiter[] = [];
  private refusedCount = 0;

  /**
   * Reserves `cost` bytes of `capacity`: at once if they fit and nobody is waiting, else once the
   * requests ahead have been admitted and enough is released. A cost larger than the whole capacity
   * is admitted when nothing else is reserved (it would otherwise never run). Resolves to the
   * reservation, or null after `waitMs`.
   */
  acquire(cost: number, capacity: number, waitMs: number): Promise<Reservation | null> {
    if (this.queue.length === 0 && this.fits(cost, capacity)) return Promise.resolve(this.take(cost, capacity));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        cost,
        grant: () => {
          clearTimeout(timer);
          resolve(this.take(cost, capacity));
        },
      };
      const timer = setTimeout(() => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        this.refusedCount++;
        resolve(null);
        // The one ahead leaving may let those behind it in.
        this.admit(capacity);
      }, waitMs);
      this.queue.push(waiter);
    });
  }

  /** Bytes reserved, requests waiting, and requests refused so far, in this isolate. */
  status(): { reserved_bytes: number; waiting: number; refused: number } {
    return { reserved_bytes: this.reserved, waiting: this.queue.length, refused: this.refusedCount };
  }

  private fits(cost: number, capacity: number): boolean {
    return this.reserved === 0 || this.reserved + cost <= capacity;
  }

  private take(cost: number, capacity: number): Reservation {
    this.reserved += cost;
    let held = cost;
    return {
      release: () => {
        this.reserved -= held;
        held = 0;
        this.admit(capacity);
      },
      shrink: (to) => {
        if (to >= held) return;
        this.reserved -= held - to;
        held = to;
        this.admit(capacity);
      },
    };
  }

  /** Admits the waiting requests, in order, while the first of them fits. */
  private admit(capacity: number): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.cost, capacity)) this.queue.shift()!.grant();
  }
}

/** Isolate-wide: every request's body in this isolate draws on it. */
const budget = new MemoryBudget();

/** The budget's settings and state, for /admin/isolate. */
export function memoryBudgetStatus(env: Partial<Record<"REQUEST_MEMORY_BUDGET_BYTES", string>>) {
  return { budget_bytes: numberVar(env.REQUEST_MEMORY_BUDGET_BYTES, DEFAULT_BUDGET_BYTES), ...budget.status() };
}

/**
 * Holds the request's estimated peak (from its `body`, as the body limit set it; nothing for a
 * request without one) from before its body is read until its response is made. A body sent
 * without Content-Length holds the peak of its limit (MAX_UNDECLARED_BYTES but for a model upload)
 * while it is read whole within that limit, then the peak of what arrived. A compressed body is
 * read as sent holding its size (or its limit), then decompressed holding the peak of the most it
 * may decompress to besides, then holds the peak of what it decompressed to: a slow upload holds
 * only its compressed size, and the large share only for as long as decompressing takes.
 * Registered after authentication and the rate limit, so only admitted callers draw on the budget.
 */
export function memoryBudget(): MiddlewareHandler<AppEnv> {
  return async function memoryBudgetHandler(c, next) {
    const body = c.get("body");
    if (!body) return next();
    const capacity = numberVar(c.env.REQUEST_MEMORY_BUDGET_BYTES, DEFAULT_BUDGET_BYTES);
    const hold = async (cost: number): Promise<Reservation> => {
      const held = await budget.acquire(cost, capacity, numberVar(c.env.REQUEST_MEMORY_WAIT_MS, DEFAULT_WAIT_MS));
      if (held) return held;
      throw new ServingError(
        "unavailable",
        `this instance's memory for request bodies (REQUEST_MEMORY_BUDGET_BYTES, ${capacity} bytes) is in use by other requests; retry shortly, or send large tensors as binary data (about a third of JSON's memory)`,
        { headers: { "Retry-After": "1" } },
      );
    };
    const sent = body.declared ?? body.limit;
    let held = await hold(body.coding ? sent : estimatedPeak(body.kind, sent));
    try {
      if (body.declared !== null && !body.coding) return await next();
      // A body sent without a length is read whole first, within its limit (Hono's bodyLimit).
      if (body.declared === null) await bodyLimit({ maxSize: body.limit, onError: () => { throw body.overLimit(); } })(c, async () => {});
      if (!body.coding) {
        // Into Hono's cache of the body, which the handler then reads from.
        const size = body.kind === "json" ? (await c.req.text()).length : (await c.req.arrayBuffer()).byteLength;
        held.shrink(estimatedPeak(body.kind, size));
        return await next();
      }
      const { name, limit, overLimit } = body.coding;
      const compressed = await c.req.raw.arrayBuffer();
      held.release();
      held = await hold(compressed.byteLength + estimatedPeak(body.kind, limit));
      const plain = await decompress(compressed, name, limit, overLimit);
      // The handler reads the decompressed body from Hono's cache of it (which holds promises).
      const cache = c.req.bodyCache as Record<string, Promise<unknown>>;
      if (body.kind === "json") cache.text = Promise.resolve(new TextDecoder().decode(plain));
      else cache.arrayBuffer = Promise.resolve(plain);
      held.shrink(estimatedPeak(body.kind, plain.byteLength));
      return await next();
    } finally {
      held.release();
    }
  };
}
