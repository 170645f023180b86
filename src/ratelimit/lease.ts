/**
 * @module ratelimit/lease: the tokens an isolate holds for leased admission, by tenant, key and
 * model. Spent locally until the lease ends; what is left is given back when it ends (settle) or
 * on the next ask, whichever comes first. Time is passed in, so the sizing rules can be checked
 * without a clock.
 */
import type { Admission, Limits } from "./limiter";
import { LEASE_FIRST_TOKENS, LEASE_MAX_TOKENS } from "./policy";

interface HeldLease {
  tokens: number;
  /** How many the lease brought. */
  granted: number;
  /** How many of them were spent. */
  spent: number;
  expiresAt: number;
  limits: Limits;
}

/** What the next ask of the tenant's object carries: tokens to give back, and how many to ask for. */
export interface NextAsk {
  unused: number;
  want: number;
}

export class LeaseBook {
  private readonly leases = new Map<string, HeldLease>();
  /** Tokens the tenant's object counts as the isolate's that no request will spend: given back on the next ask or settle. */
  private readonly owed = new Map<string, number>();

  constructor(private readonly maxLeases = 10_000) {}

  /** Spends one leased token, if a live lease is held; the limits to report, or null. */
  spend(id: string, nowMs: number): Limits | null {
    const held = this.leases.get(id);
    if (!held || held.expiresAt <= nowMs || held.tokens <= 0) return null;
    held.tokens--;
    held.spent++;
    return { ...held.limits, remaining: held.limits.remaining + held.tokens };
  }

  /**
   * Ends an expired or spent lease. A lease spent before it ended asks for twice as many; one that
   * ended with tokens left asks for what was spent of it. So a busy isolate asks its tenant's
   * object a few times a second at most, and a quiet one holds few tokens.
   */
  end(id: string, nowMs: number): NextAsk {
    const owed = this.takeOwed(id);
    const held = this.leases.get(id);
    if (!held) return { unused: owed, want: LEASE_FIRST_TOKENS };
    this.leases.delete(id);
    const spentInTime = held.tokens <= 0 && held.expiresAt > nowMs;
    const want = spentInTime ? Math.min(2 * held.granted, LEASE_MAX_TOKENS) : Math.max(1, held.spent);
    return { unused: Math.max(0, held.tokens) + owed, want };
  }

  /**
   * Notes `tokens` to give back with the next ask (or settle): tokens an ask that failed was
   * carrying back, or tokens an answer granted to requests that had already given up on it.
   */
  owe(id: string, tokens: number): void {
    if (tokens > 0) this.owed.set(id, (this.owed.get(id) ?? 0) + tokens);
  }

  private takeOwed(id: string): number {
    const owed = this.owed.get(id) ?? 0;
    this.owed.delete(id);
    return owed;
  }

  /**
   * The unspent tokens of an ended lease, to give back now rather than on a next ask that may
   * never come: they leave the lease, which still sizes the next ask.
   */
  settle(id: string, nowMs: number): number {
    const held = this.leases.get(id);
    if (!held || held.expiresAt > nowMs || held.tokens <= 0) return this.takeOwed(id);
    const unused = held.tokens;
    held.tokens = 0;
    return unused + this.takeOwed(id);
  }

  /**
   * Keeps the tokens an admission leased, and returns how many are now held for `id`. Two asks
   * that overlapped both brought tokens: keep them all.
   */
  keep(id: string, admission: Extract<Admission, { outcome: "allowed" }>, nowMs: number): number {
    if (!admission.lease) return 0;
    const held = this.leases.get(id);
    if (!held && this.leases.size >= this.maxLeases) this.leases.delete(this.leases.keys().next().value!);
    const tokens = (held?.tokens ?? 0) + admission.lease.tokens;
    const limits = { limit: admission.limit, remaining: admission.remaining, resetSeconds: admission.resetSeconds };
    this.leases.set(id, { tokens, granted: (held?.granted ?? 0) + admission.lease.tokens, spent: held?.spent ?? 0, expiresAt: nowMs + admission.lease.ttlMs, limits });
    return tokens;
  }
}
