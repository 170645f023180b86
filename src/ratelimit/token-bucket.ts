/** @module ratelimit/token-bucket: the token bucket arithmetic. Pure. */

/** A bucket's state: tokens held at a moment. */
export interface BucketState {
  tokens: number;
  atMs: number;
}

/** What taking one token did. */
export interface Take {
  allowed: boolean;
  state: BucketState;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until one token is available (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * Refills `state` at `perMinute` up to `capacity`, then takes one token if there is one.
 * `take: false` only looks (for a request refused for another reason).
 */
export function takeToken(state: BucketState, capacity: number, perMinute: number, nowMs: number, take = true): Take {
  const perMs = perMinute / 60_000;
  const elapsed = Math.max(0, nowMs - state.atMs);
  let tokens = Math.min(capacity, state.tokens + elapsed * perMs);
  const allowed = take && tokens >= 1;
  if (allowed) tokens -= 1;
  const toSeconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
  return {
    allowed,
    state: { tokens, atMs: nowMs },
    remaining: Math.floor(tokens),
    resetSeconds: toSeconds((capacity - tokens) / perMs),
    retryAfterSeconds: tokens >= 1 ? 0 : Math.max(1, toSeconds((1 - tokens) / perMs)),
  };
}
