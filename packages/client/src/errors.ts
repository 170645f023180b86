/**
 * @module errors: what a failed call throws. A response the server refused becomes an
 * InferenceServerError (or the subclass for its status) carrying the status, the server's message,
 * the request id and, for 429 and 503, how long to wait. A cancelled or timed-out call rejects with
 * the runtime's own AbortError or TimeoutError, as fetch does.
 */

export interface ServerErrorDetails {
  status: number;
  /** The server's message (`error` in its JSON body), or the body's text. */
  message: string;
  /** The admin API's error code (`code` in its body), if it sent one. */
  code?: string;
  /** The request's id (X-Request-Id), to quote when asking about it. */
  requestId?: string;
  /** Seconds to wait before retrying, from Retry-After (429 and 503). */
  retryAfter?: number;
}

/** The server answered with an error status. */
export class InferenceServerError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfter: number | undefined;
  constructor(details: ServerErrorDetails) {
    super(details.message);
    this.name = new.target.name;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.retryAfter = details.retryAfter;
  }
}

/** 400: the request is malformed or does not fit the model. */
export class InvalidRequestError extends InferenceServerError {}
/** 401: no key, or an unknown, revoked or expired one (or a wrong admin token). */
export class AuthenticationError extends InferenceServerError {}
/** 404: unknown model, version, label, tenant or route. */
export class NotFoundError extends InferenceServerError {}
/** 409 (or 412): the change conflicts with what is stored. */
export class ConflictError extends InferenceServerError {}
/** 412 (code `precondition_failed`): a conditional write (If-Match) whose config changed since it was read. */
export class PreconditionFailedError extends ConflictError {}
/** 413: the body is larger than the server takes. */
export class PayloadTooLargeError extends InferenceServerError {}
/** 429: the tenant's rate or daily quota ran out; `retryAfter` says when to try again. */
export class RateLimitError extends InferenceServerError {}
/** 503: the model cannot be loaded, or the service is busy; `retryAfter` when it says. */
export class UnavailableError extends InferenceServerError {}

const BY_STATUS: Record<number, typeof InferenceServerError> = {
  400: InvalidRequestError,
  401: AuthenticationError,
  404: NotFoundError,
  409: ConflictError,
  412: PreconditionFailedError,
  413: PayloadTooLargeError,
  429: RateLimitError,
  503: UnavailableError,
};

/** The error for an error response, its body read. */
export async function errorFromResponse(response: Response): Promise<InferenceServerError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 2000) || response.statusText || `HTTP ${response.status}`;
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof body.error === "string") message = body.error;
    if (typeof body.code === "string") code = body.code;
  } catch {
    // not JSON: the text is the message
  }
  const Class = BY_STATUS[response.status] ?? InferenceServerError;
  return new Class({
    status: response.status,
    message,
    code,
    requestId: response.headers.get("x-request-id") ?? undefined,
    retryAfter: retryAfterSeconds(response.headers.get("retry-after")),
  });
}

/** Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** The client was asked for something it cannot send (a wrong datatype, data that does not fill the shape). */
export class ClientUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClientUsageError";
  }
}
