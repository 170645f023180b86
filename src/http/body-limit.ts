/**
 * @module http/body-limit: the most a request body may be, decided before anything is read, like
 * hono's own bodyLimit. A declared Content-Length past the limit is a 413 at once; a coding other
 * than gzip or deflate is a 415. What it decides is left in `body` for http/body-intake, which
 * reads the body within it once the caller is known and admitted.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, BodyKind } from "../env";
import { ServingError } from "../errors";
import { settings } from "../settings";
import { requestCoding } from "./content-coding";

/** The largest body sent without Content-Length (a model upload excepted): 411 beyond it. */
const MAX_UNDECLARED_BYTES = 1024 * 1024;

type Predicate = (c: Context<AppEnv>) => boolean;

export interface BodyLimitOptions {
  /** A model upload: its limit is MAX_MODEL_BYTES, and it may come without Content-Length. */
  upload?: Predicate;
  /** A binary body (KServe's Inference-Header-Content-Length): MAX_REQUEST_BYTES, not the JSON limit. */
  binary?: Predicate;
}

const never: Predicate = () => false;

/**
 * Describes the body of each POST or PUT in `body` (its kind, declared length, limit and the
 * error past it), refusing at once what its headers already show to be too large or unreadable.
 * Every body that is neither an upload nor binary is JSON.
 */
export function bodyLimit(options: BodyLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const isUpload = options.upload ?? never;
  const isBinary = options.binary ?? never;
  // Plain (not async): it runs on every request, and most have no body.
  return function bodyLimitHandler(c, next) {
    if (c.req.method !== "POST" && c.req.method !== "PUT") return next();
    // A Worker is handed a body as sent: a compressed one is decompressed by body-intake, within the same limit.
    const coding = requestCoding(c.req.header("content-encoding"));
    const upload = isUpload(c);
    const json = !upload && !isBinary(c);
    const limits = settings(c.env);
    const requestMax = limits.MAX_REQUEST_BYTES;
    const jsonMax = Math.min(requestMax, limits.MAX_JSON_REQUEST_BYTES);
    const max = upload ? limits.MAX_MODEL_BYTES : json ? jsonMax : requestMax;
    const tooLarge = () =>
      new ServingError(
        "payload_too_large",
        upload
          ? `the model is larger than MAX_MODEL_BYTES (${max} bytes); nothing was written`
          : json && jsonMax < requestMax
            ? `JSON request body is larger than ${max} bytes (MAX_JSON_REQUEST_BYTES); send large tensors as binary data (KServe's Inference-Header-Content-Length), up to ${requestMax} bytes`
            : `request body is larger than ${max} bytes`,
      );
    const kind: BodyKind = upload ? "upload" : json ? "json" : "binary";
    const compressed = coding
      ? {
          coding: {
            name: coding,
            limit: max,
            overLimit: () => new ServingError("payload_too_large", `${tooLarge().message} (its size decompressed, from Content-Encoding: ${coding})`),
          },
        }
      : {};
    const declared = c.req.header("content-length");
    if (declared !== undefined && !c.req.header("transfer-encoding")) {
      if (Number(declared) > max) throw tooLarge();
      c.set("body", { kind, declared: Number(declared), limit: max, overLimit: tooLarge, ...compressed });
      return next();
    }
    // Read whole before the handler runs, so it stays small; an upload, behind the admin token, is excepted.
    const limit = upload ? max : Math.min(max, MAX_UNDECLARED_BYTES);
    const overLimit = () =>
      limit < max
        ? new ServingError("length_required", `a request body without Content-Length may be at most ${limit} bytes; send Content-Length (up to ${max} bytes)`)
        : tooLarge();
    c.set("body", { kind, declared: null, limit, overLimit, ...compressed });
    return next();
  };
}
