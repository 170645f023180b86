import { describe, expect, it } from "vitest";
import { takeToken } from "../../src/ratelimit/token-bucket";

describe("takeToken", () => {
  it("takes tokens until the bucket is empty, then says when one is back", () => {
    let state = { tokens: 2, atMs: 0 };
    const first = takeToken(state, 2, 60, 0);
    expect(first).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 1 });
    state = first.state;
    state = takeToken(state, 2, 60, 0).state;
    const refused = takeToken(state, 2, 60, 0);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1, resetSeconds: 2 });
  });

  it("refills at the per-minute rate, never above capacity", () => {
    const empty = { tokens: 0, atMs: 0 };
    expect(takeToken(empty, 10, 6, 9_999).allowed).toBe(false);
    expect(takeToken(empty, 10, 6, 10_000).allowed).toBe(true);
    expect(takeToken(empty, 10, 6, 3_600_000).remaining).toBe(9);
  });

  it("only looks when told not to take", () => {
    const r = takeToken({ tokens: 5, atMs: 0 }, 5, 60, 0, false);
    expect(r).toMatchObject({ allowed: false, remaining: 5 });
  });
});
