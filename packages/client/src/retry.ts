/** @module retry: how long to wait before retrying a 429 or 503. */

/** Backoff when the server gave no Retry-After: 0.5 s, 1 s, 2 s, ... */
const BASE_MS = 500;

/**
 * At least what Retry-After asks (else an exponential backoff), plus up to a fifth more at random,
 * so that clients refused together do not all come back in the same instant.
 */
export function retryDelayMs(retryAfterSeconds: number | undefined, attempt: number, random: () => number = Math.random): number {
  const base = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : BASE_MS * 2 ** attempt;
  return Math.round(base + random() * Math.max(100, base * 0.2));
}
