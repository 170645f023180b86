/**
 * @module transport: one HTTP call to the service through whatever fetch the caller gave (the
 * global one, a service binding's, a test's), with the key, a timeout, the caller's signal, opt-in
 * retries on 429 and 503, and error statuses turned into typed errors.
 */
import { errorFromResponse, InferenceServerError } from "./errors.js";
import { retryDelayMs } from "./retry.js";

/** fetch's shape: the global fetch, or a Worker service binding's `fetch`. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A Worker service binding (or anything else with a fetch method). */
export interface Fetcher {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** What a retry was for, told to `onRetry` before waiting. */
export interface RetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  error: InferenceServerError;
  delayMs: number;
}

export interface ConnectionOptions {
  /** The service's base URL, e.g. `https://inference.example.com` (with a service binding, any URL). */
  url: string;
  /** fetch to use: by default the runtime's; pass a Worker's service binding itself to call through it. */
  fetch?: FetchLike | Fetcher;
  /** Abort a call (each attempt) after this many milliseconds. */
  timeoutMs?: number;
  /** How many times to retry a call refused with 429 or 503 (0, the default, never retries). */
  retries?: number;
  /** A retry that would wait longer than this (Retry-After included) is not made: the error is thrown. Default 60 s. */
  maxRetryDelayMs?: number;
  /** Called before each retry's wait. */
  onRetry?: (event: RetryEvent) => void;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
}

export interface CallOptions {
  /** Cancels the call, its retries' waits included. */
  signal?: AbortSignal;
  /** Headers for this call only. */
  headers?: Record<string, string>;
}

export interface Call extends CallOptions {
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** Path and query after the base URL, starting with '/'. */
  path: string;
  /** A body that can be sent again (not a stream) when the call may be retried. */
  body?: RequestInit["body"];
  /** Whether repeating the call is harmless, so it may be retried on 429 and 503. */
  retryable: boolean;
  /** Statuses returned to the caller instead of thrown (the health probes' 503, a 404 for "no"). */
  accept?: readonly number[];
}

const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

/** The HTTP layer both clients share. */
export class Transport {
  readonly baseUrl: string;
  // #private, not TypeScript's private: the key (and the options that hold it) must not show in
  // console.log, JSON.stringify or a debugger's listing of a client.
  readonly #fetchFn: FetchLike;
  readonly #auth: string | undefined;
  readonly #options: ConnectionOptions;

  constructor(options: ConnectionOptions, credential: string | undefined) {
    this.#options = options;
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.#auth = credential ? `Bearer ${credential}` : undefined;
    const given = options.fetch;
    // Called through a closure: workerd throws "Illegal invocation" for a fetch called detached from its owner.
    this.#fetchFn =
      given === undefined ? (input, init) => fetch(input, init) : typeof given === "function" ? given : (input, init) => given.fetch(input, init);
  }

  /** Sends the call; resolves with the response (ok, or a status in `accept`), else throws a typed error. */
  async send(call: Call): Promise<Response> {
    const retries = call.retryable ? Math.max(0, Math.floor(this.#options.retries ?? 0)) : 0;
    const maxDelay = this.#options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    for (let attempt = 0; ; attempt++) {
      const response = await this.#once(call);
      if (response.ok || call.accept?.includes(response.status)) return response;
      const error = await errorFromResponse(response);
      if (attempt < retries && (error.status === 429 || error.status === 503)) {
        const delayMs = retryDelayMs(error.retryAfter, attempt);
        if (delayMs <= maxDelay) {
          this.#options.onRetry?.({ attempt: attempt + 1, error, delayMs });
          await sleep(delayMs, call.signal);
          continue;
        }
      }
      throw error;
    }
  }

  async #once(call: Call): Promise<Response> {
    call.signal?.throwIfAborted();
    const headers: Record<string, string> = { ...this.#options.headers, ...call.headers };
    if (this.#auth && !Object.keys(headers).some((h) => h.toLowerCase() === "authorization")) headers.authorization = this.#auth;
    const signal = withTimeout(call.signal, this.#options.timeoutMs);
    const init: RequestInit & { duplex?: "half" } = { method: call.method, headers, signal };
    if (call.body !== undefined) init.body = call.body;
    // A stream body needs duplex: "half" in Node's fetch (and in browsers that stream uploads).
    if (typeof ReadableStream !== "undefined" && call.body instanceof ReadableStream) init.duplex = "half";
    return this.#fetchFn(this.baseUrl + call.path, init);
  }
}

/** The caller's signal, joined with a timeout when one is set. */
function withTimeout(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  if (timeoutMs === undefined) return signal;
  const timeout = AbortSignal.timeout(timeoutMs);
  if (!signal) return timeout;
  if (typeof AbortSignal.any === "function") return AbortSignal.any([signal, timeout]);
  const controller = new AbortController();
  for (const s of [signal, timeout]) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/** Waits, unless the signal aborts first (then rejects with its reason). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The body of a JSON response. */
export async function readJson<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** A path segment, escaped. */
export const seg = (value: string | number) => encodeURIComponent(String(value));
