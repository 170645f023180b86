/**
 * @module http/cors: lets browser pages on the origins in CORS_ALLOWED_ORIGINS call the API with
 * an `Authorization` header (no cookies). A preflight is answered before any key is asked for; a
 * request from any other origin gets no CORS headers, so the browser keeps its answer from the page.
 */
import type { Context, MiddlewareHandler, Next } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../env";
import { settings } from "../settings";

/** The origins of a comma-separated list, each trimmed, blanks dropped. */
const originsIn = (raw: string): string[] => raw.split(",").map((s) => s.trim()).filter((s) => s !== "");

/** What a page may send: the protocols' headers, and the compressed bodies the client sends. */
export const CORS_ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "content-encoding",
  "if-match",
  "inference-header-content-length",
  "x-model-label",
  "x-client-id",
  "x-request-id",
];

/** What a page may read of an answer, besides the headers every response shows. */
export const CORS_EXPOSE_HEADERS = [
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
  "Retry-After",
  "X-Model-Version",
  "X-Request-Id",
  "Server-Timing",
  "Inference-Header-Content-Length",
  "ETag",
];

/** How long a browser may keep a preflight's answer (Chromium keeps it at most 2 hours). */
const MAX_AGE_SECONDS = 7200;

const handler = cors({
  origin: (origin) => origin,
  allowMethods: ["GET", "HEAD", "POST", "PUT", "DELETE"],
  allowHeaders: CORS_ALLOW_HEADERS,
  exposeHeaders: CORS_EXPOSE_HEADERS,
  maxAge: MAX_AGE_SECONDS,
});

/** Passes a request from an origin not allowed, marking its answer as one that differs by origin. */
async function varyByOrigin(c: Context<AppEnv>, next: Next): Promise<void> {
  await next();
  // A cache in between must not hand this answer to an allowed page.
  c.header("Vary", "Origin", { append: true });
}

/** CORS for the origins the setting lists ("*" for any); nothing at all for other requests. */
export function corsForAllowedOrigins(): MiddlewareHandler<AppEnv> {
  // Plain (not async): most requests carry no Origin and pass straight on.
  return function corsHandler(c, next) {
    const origin = c.req.header("origin");
    if (origin === undefined) return next();
    const allowed = originsIn(settings(c.env).CORS_ALLOWED_ORIGINS);
    if (allowed.length === 0) return next();
    if (allowed.includes("*") || allowed.includes(origin)) return handler(c, next);
    return varyByOrigin(c, next);
  };
}
