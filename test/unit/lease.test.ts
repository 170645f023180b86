/** The lease book's sizing rules, with time given rather than read from a clock. */
import { describe, expect, it } from "vitest";
import { LeaseBook } from "../../src/ratelimit/lease";
import type { Admission } from "../../src/ratelimit/limiter";
import { LEASE_FIRST_TOKENS, LEASE_MAX_TOKENS, LEASE_MS } from "../../src/ratelimit/policy";

type Allowed = Extract<Admission, { outcome: "allowed" }>;
const granting = (tokens: number, remaining = 5000): Allowed => ({ outcome: "allowed", limit: 10_000, remaining, resetSeconds: 1, lease: { tokens, ttlMs: LEASE_MS } });

/** Spends every token of the lease held for `id` at `nowMs`; how many were spent. */
function spendAll(book: LeaseBook, id: string, nowMs: number): number {
  let n = 0;
  while (book.spend(id, nowMs)) n++;
  return n;
}

describe("LeaseBook", () => {
  it("asks first for LEASE_FIRST_TOKENS, then twice as many each time a lease is spent before it ends, up to LEASE_MAX_TOKENS", () => {
    const book = new LeaseBook();
    let ask = book.end("k", 0);
    expect(ask).toEqual({ unused: 0, want: LEASE_FIRST_TOKENS });
    const asked: number[] = [];
    for (let t = 0; asked.length < 8; t += 10) {
      asked.push(ask.want);
      book.keep("k", granting(ask.want), t);
      expect(spendAll(book, "k", t + 5)).toBe(ask.want);
      ask = book.end("k", t + 5);
      expect(ask.unused).toBe(0);
    }
    expect(asked).toEqual([32, 64, 128, 256, 512, 1024, 1024, 1024].map((n) => Math.min(n, LEASE_MAX_TOKENS)));
  });

  it("grows by what the object granted, not by what was asked, when the object grants less", () => {
    const book = new LeaseBook();
    book.keep("k", granting(200), 0);
    spendAll(book, "k", 1);
    expect(book.end("k", 1).want).toBe(400);
  });

  it("asks for what was spent, and gives back the rest, when a lease ends unspent", () => {
    const book = new LeaseBook();
    book.keep("k", granting(256), 0);
    for (let i = 0; i < 40; i++) expect(book.spend("k", 10)).not.toBeNull();
    expect(book.spend("k", LEASE_MS)).toBeNull();
    expect(book.end("k", LEASE_MS)).toEqual({ unused: 216, want: 40 });
    // A lease of which nothing was spent still asks for one.
    book.keep("k", granting(40), LEASE_MS);
    expect(book.end("k", 3 * LEASE_MS)).toEqual({ unused: 40, want: 1 });
  });

  it("counts leased tokens in the remaining it reports, counting down", () => {
    const book = new LeaseBook();
    expect(book.keep("k", granting(3, 90), 0)).toBe(3);
    expect([0, 1, 2].map(() => book.spend("k", 1)!.remaining)).toEqual([92, 91, 90]);
    expect(book.spend("k", 1)).toBeNull();
  });

  it("keeps the tokens of overlapping asks together, and the leases of other keys apart", () => {
    const book = new LeaseBook();
    book.keep("a", granting(5), 0);
    expect(book.keep("a", granting(7), 1)).toBe(12);
    book.keep("b", granting(2), 0);
    expect(spendAll(book, "b", 2)).toBe(2);
    expect(spendAll(book, "a", 2)).toBe(12);
  });

  it("holds at most maxLeases, dropping the oldest", () => {
    const book = new LeaseBook(2);
    for (const id of ["a", "b", "c"]) book.keep(id, granting(1), 0);
    expect(book.spend("a", 1)).toBeNull();
    expect(book.spend("b", 1)).not.toBeNull();
    expect(book.spend("c", 1)).not.toBeNull();
  });

  it("settles an ended lease: its unspent tokens once, and it still sizes the next ask", () => {
    const book = new LeaseBook();
    book.keep("k", granting(30), 0);
    for (let i = 0; i < 12; i++) book.spend("k", 10);
    // Not before it ends: the isolate may still spend them.
    expect(book.settle("k", LEASE_MS - 1)).toBe(0);
    expect(book.settle("k", LEASE_MS)).toBe(18);
    expect(book.settle("k", LEASE_MS + 1)).toBe(0);
    expect(book.spend("k", LEASE_MS + 1)).toBeNull();
    // Given back already: the next ask gives back nothing, and asks for what was spent.
    expect(book.end("k", LEASE_MS + 1)).toEqual({ unused: 0, want: 12 });
    // A lease ended by a new ask first leaves nothing to settle.
    book.keep("j", granting(5), 0);
    expect(book.end("j", LEASE_MS)).toEqual({ unused: 5, want: 1 });
    expect(book.settle("j", LEASE_MS)).toBe(0);
  });
});
