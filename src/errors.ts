/** @module errors: the one error type every layer throws, and how each code maps to an HTTP status. */
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** What went wrong, independent of protocol. Each protocol renders the message in its own body shape. */
export type ErrorCode =
  | "invalid_argument" // the client's request is malformed or does not fit the model
  | "unauthenticated" // no key, a malformed, unknown, revoked or expired key, a wrong admin token
  | "not_found" // unknown model, version, label, tenant or route
  | "conflict"
  | "precondition_failed" // a conditional write (If-Match) whose resource changed since it was read
  | "rate_limited" // the tenant's rate or daily quota ran out
  | "unavailable" // the model exists but cannot be loaded or run right now
  | "resource_exhausted" // a load or run needs more memory than onnxruntime's heap may take
  | "length_required" // a large body sent without Content-Length
  | "request_timeout" // a request body that stalled, or arrived slower than the minimum rate
  | "client_closed" // the client went away before its request body arrived, or before its answer (nginx's 499: logged, never sent)
  | "deadline_exceeded" // the request's timeout passed before it could run (docs/scheduling.md)
  | "payload_too_large"
  | "unsupported_media_type"
  | "not_implemented"
  | "internal";

type Status = 400 | 401 | 404 | 408 | 409 | 412 | 411 | 413 | 415 | 429 | 499 | 500 | 501 | 503 | 504 | 507;

const STATUS: Record<ErrorCode, Status> = {
  invalid_argument: 400,
  unauthenticated: 401,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  rate_limited: 429,
  unavailable: 503,
  resource_exhausted: 507,
  length_required: 411,
  request_timeout: 408,
  client_closed: 499,
  deadline_exceeded: 504,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_implemented: 501,
  internal: 500,
};

/** Every error code, in the order above. */
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];

/** An error whose message is safe to show to the caller. */
export class ServingError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers (WWW-Authenticate, Retry-After, RateLimit-*). */
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options);
    this.name = "ServingError";
    this.code = code;
    this.headers = options?.headers ?? {};
  }
  /** Typed as Hono's statuses, which leave out 499 (it passes as an unofficial status). */
  get status(): ContentfulStatusCode {
    return STATUS[this.code] as ContentfulStatusCode;
  }
}

/** Shorthand for the most common error: the request is wrong. */
export function invalid(message: string): ServingError {
  return new ServingError("invalid_argument", message);
}

/** Shorthand for an unknown model, version or label. */
export function notFound(message: string): ServingError {
  return new ServingError("not_found", message);
}
