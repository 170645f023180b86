/**
 * @module byte-budget: a byte budget shared by the requests in flight, each holding what its body
 * is estimated to peak at (http/memory-budget says how much and from which settings). Those that
 * do not fit wait, in arrival order, for others to give bytes back. One per isolate, in its core.
 */

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
