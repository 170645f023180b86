/**
 * @module http/memory-budget: the isolate's memory for request bodies in flight. A body holds the
 * estimated peak of the bytes that have arrived (a JSON body peaks at 2–3× its size: the text, the
 * parsed arrays, the typed array, onnxruntime's copy; a binary one under 1×; a model upload at its
 * size plus onnxruntime's copy; `npm run bench -- heap`), growing as they arrive, so a body that is
 * slow to come holds only what came. What would take the isolate past REQUEST_MEMORY_BUDGET_BYTES,
 * or a tenant past its share of it (REQUEST_MEMORY_TENANT_SHARE), waits for others to finish; after
 * REQUEST_MEMORY_WAIT_MS a 503. One request's limit (MAX_JSON_REQUEST_BYTES) cannot stop two such
 * requests at once from taking an isolate past its 128 MB, which ends every request in it. The
 * budget is never more than what the isolate (ISOLATE_MEMORY_BYTES) has beside onnxruntime's heap,
 * which only grows: bodies are not let into memory the heap already holds.
 */
import type { BodyKind } from "../env";
import { numberVar } from "../vars";

/** Peak memory per body byte, measured (`npm run bench -- heap`: JSON 1.9–3.0×, binary 0.6–1.0×). */
const PEAK_PER_BYTE: Record<BodyKind, number> = { json: 3, binary: 1, upload: 2 };

/** The estimated peak of a body of `bytes` bytes. */
export const estimatedPeak = (kind: BodyKind, bytes: number): number => Math.ceil(PEAK_PER_BYTE[kind] * bytes);

export const DEFAULT_BUDGET_BYTES = 48 * 1024 * 1024;
export const DEFAULT_WAIT_MS = 5000;
const DEFAULT_TENANT_SHARE = 0.5;
/** A deployed isolate's memory limit. */
export const DEFAULT_ISOLATE_BYTES = 128 * 1024 * 1024;
/** The least the budget is, however large the heap: small bodies still run beside one another. */
export const MIN_CAPACITY_BYTES = 4 * 1024 * 1024;

/** Bytes that may change while a body waits (the budget shrinks as onnxruntime's heap grows). */
export type Bytes = number | (() => number);
const bytesNow = (b: Bytes): number => (typeof b === "number" ? b : b());

/** Bytes held of a budget, until released. */
export interface Reservation {
  /** Adds `cost` bytes once they fit, waiting up to `waitMs`; false (nothing added) when they did not. */
  grow(cost: number, waitMs: number): Promise<boolean>;
  /** Gives the bytes back (safe to call twice). */
  release(): void;
  /** Lowers the bytes held to `cost` (never raises them), letting in those waiting that now fit. */
  shrink(cost: number): void;
}

/** Whose bytes a reservation holds, and the most that tenant's reservations may hold together. */
export interface TenantShare {
  tenant: string;
  bytes: Bytes;
}

interface Holding {
  held: number;
  /** Released: holds nothing more, and its waits end. */
  closed: boolean;
  /** Waiting for more bytes: until it gets them, it gives back none of those it holds. */
  waiting: boolean;
  capacity: Bytes;
  share?: TenantShare;
}

interface Waiter {
  holding: Holding;
  cost: number;
  grant: () => void;
  /** Ends the wait without the bytes (its reservation was released meanwhile, or it was refused by `unblock`). */
  drop: () => void;
}

/**
 * A byte budget shared by the requests in flight. Those waiting are let in, in arrival order, as
 * soon as each fits: a large body waiting never holds up a smaller one behind it that fits now,
 * and bodies never wait on one another's bytes (`unblock`).
 */
export class MemoryBudget {
  private reserved = 0;
  private readonly tenants = new Map<string, number>();
  private readonly queue: Waiter[] = [];
  /** The reservations holding bytes. */
  private readonly holders = new Set<Holding>();
  private refusedCount = 0;

  /**
   * Reserves `cost` bytes of `capacity` (and of the tenant's `share`): at once if they fit, else
   * once enough is released. A reservation holding more than the whole capacity (or its tenant's
   * share) is let in when nothing else is held (it would otherwise never run). Resolves to the
   * reservation, or null after `waitMs`.
   */
  async acquire(cost: number, capacity: Bytes, waitMs: number, share?: TenantShare): Promise<Reservation | null> {
    const reservation = this.open(capacity, share);
    return (await reservation.grow(cost, waitMs)) ? reservation : null;
  }

  /** A reservation holding nothing yet, to grow as its body arrives. */
  open(capacity: Bytes, share?: TenantShare): Reservation {
    return this.reservation({ held: 0, closed: false, waiting: false, capacity, share });
  }

  /** Bytes reserved, requests waiting, and requests refused so far, in this isolate. */
  status(): { reserved_bytes: number; waiting: number; refused: number } {
    return { reserved_bytes: this.reserved, waiting: this.queue.length, refused: this.refusedCount };
  }

  private fits(h: Holding, cost: number): boolean {
    if (this.reserved === h.held) {
      // Alone: let in past the capacity (it would otherwise never run). But a body already holding
      // bytes grows past it only while nobody waits: its growth, as slow as its client, would
      // otherwise hold everyone back; refused (unblock), it gives its bytes back to them.
      if (h.held === 0 || this.reserved + cost <= bytesNow(h.capacity)) return true;
      return !this.queue.some((w) => w.holding !== h);
    }
    if (this.reserved + cost > bytesNow(h.capacity)) return false;
    return !h.share || (this.tenants.get(h.share.tenant) ?? 0) + cost <= bytesNow(h.share.bytes);
  }

  /**
   * Bodies that each hold part of the budget and each wait for more would wait on one another
   * until their time is up: when every reservation holding bytes waits, the newest such wait is
   * refused at once, and its body gives its bytes back to the others.
   */
  private unblock(): void {
    for (const h of this.holders) if (!h.waiting) return;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const w = this.queue[i]!;
      if (w.holding.held === 0) continue;
      this.queue.splice(i, 1);
      this.refusedCount++;
      w.drop();
      return;
    }
  }

  private add(h: Holding, bytes: number): void {
    h.held += bytes;
    this.reserved += bytes;
    if (h.held > 0) this.holders.add(h);
    else this.holders.delete(h);
    if (!h.share) return;
    const now = (this.tenants.get(h.share.tenant) ?? 0) + bytes;
    if (now > 0) this.tenants.set(h.share.tenant, now);
    else this.tenants.delete(h.share.tenant);
  }

  private reservation(h: Holding): Reservation {
    return {
      grow: (cost, waitMs) => {
        if (h.closed) return Promise.resolve(false);
        if (this.fits(h, cost)) {
          this.add(h, cost);
          return Promise.resolve(true);
        }
        return new Promise<boolean>((resolve) => {
          const waiter: Waiter = {
            holding: h,
            cost,
            grant: () => {
              clearTimeout(timer);
              h.waiting = false;
              this.add(h, cost);
              resolve(true);
            },
            drop: () => {
              clearTimeout(timer);
              h.waiting = false;
              resolve(false);
            },
          };
          const timer = setTimeout(() => {
            const at = this.queue.indexOf(waiter);
            if (at >= 0) this.queue.splice(at, 1);
            h.waiting = false;
            this.refusedCount++;
            resolve(false);
          }, waitMs);
          h.waiting = true;
          this.queue.push(waiter);
          this.unblock();
        });
      },
      release: () => {
        h.closed = true;
        for (const w of this.queue.filter((x) => x.holding === h)) {
          this.queue.splice(this.queue.indexOf(w), 1);
          w.drop();
        }
        this.add(h, -h.held);
        this.admit();
      },
      shrink: (to) => {
        if (to >= h.held) return;
        this.add(h, to - h.held);
        this.admit();
      },
    };
  }

  /** Admits, in arrival order, every waiting request that fits. */
  private admit(): void {
    for (let i = 0; i < this.queue.length; ) {
      const w = this.queue[i]!;
      if (!this.fits(w.holding, w.cost)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      w.grant();
      // One let in may hold what let the ones before it in: look again from the start.
      i = 0;
    }
    this.unblock();
  }
}

/** Isolate-wide: every request's body in this isolate draws on it. */
export const budget = new MemoryBudget();

type BudgetVars = Partial<Record<"REQUEST_MEMORY_BUDGET_BYTES" | "REQUEST_MEMORY_WAIT_MS" | "REQUEST_MEMORY_TENANT_SHARE" | "ISOLATE_MEMORY_BYTES", string>>;

/** The budget's settings from the environment. */
export interface BudgetSettings {
  /** REQUEST_MEMORY_BUDGET_BYTES: the most bodies may hold, however small the heap. */
  budgetBytes: number;
  /** ISOLATE_MEMORY_BYTES: the isolate's memory, onnxruntime's heap included. */
  isolateBytes: number;
  waitMs: number;
  /** REQUEST_MEMORY_TENANT_SHARE: the fraction of the capacity one tenant's bodies may hold. */
  tenantShare: number;
}

export function budgetSettings(env: BudgetVars): BudgetSettings {
  const share = numberVar(env.REQUEST_MEMORY_TENANT_SHARE, DEFAULT_TENANT_SHARE);
  return {
    budgetBytes: numberVar(env.REQUEST_MEMORY_BUDGET_BYTES, DEFAULT_BUDGET_BYTES),
    isolateBytes: numberVar(env.ISOLATE_MEMORY_BYTES, DEFAULT_ISOLATE_BYTES),
    waitMs: numberVar(env.REQUEST_MEMORY_WAIT_MS, DEFAULT_WAIT_MS),
    tenantShare: share > 0 && share <= 1 ? share : DEFAULT_TENANT_SHARE,
  };
}

/**
 * What bodies may hold now, beside onnxruntime's heap of `heapBytes` (null before it started):
 * the budget, within what the isolate has left beside the heap, and never under MIN_CAPACITY_BYTES.
 */
export function capacityNow(s: BudgetSettings, heapBytes: number | null): number {
  const left = Math.max(MIN_CAPACITY_BYTES, s.isolateBytes - (heapBytes ?? 0));
  return Math.min(s.budgetBytes, left);
}

/** One tenant's share of what bodies may hold now. */
export const tenantBytesNow = (s: BudgetSettings, heapBytes: number | null): number => Math.floor(capacityNow(s, heapBytes) * s.tenantShare);

/** The budget's settings and state, for /admin/isolate, beside a heap of `heapBytes`. */
export function memoryBudgetStatus(env: BudgetVars, heapBytes: number | null) {
  const s = budgetSettings(env);
  return {
    budget_bytes: s.budgetBytes,
    isolate_memory_bytes: s.isolateBytes,
    capacity_bytes: capacityNow(s, heapBytes),
    tenant_share_bytes: tenantBytesNow(s, heapBytes),
    ...budget.status(),
  };
}
