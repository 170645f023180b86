/**
 * @module http/openapi/describe: how a route declares its part of the OpenAPI document (hono-openapi's
 * describeRoute), with the security, error shapes and statuses each kind of route shares.
 */
import type { MiddlewareHandler } from "hono";
import { describeRoute, resolver, uniqueSymbol } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../../errors";

/** A KServe V2 or TF Serving error, as both protocols' specs shape it. */
export const ProtocolError = z.object({ error: z.string() }).meta({ id: "inference_error_response", example: { error: "model 'irs' not found" } });

/** The codes an admin answer may carry: a 499 is never sent, and admin routes have no deadlines. */
const ADMIN_CODES = ERROR_CODES.filter((c) => c !== "client_closed" && c !== "deadline_exceeded") as [ErrorCode, ...ErrorCode[]];

/** An admin API (or /metrics) error: the message and a stable code. */
export const AdminError = z
  .object({
    error: z.string(),
    code: z.enum(ADMIN_CODES),
  })
  .meta({ id: "admin_error", example: { error: "tenant 'acme' not found", code: "not_found" } });

export const STATUS_TEXT: Record<number, string> = {
  400: "The request is malformed or does not fit the model; the message names the field.",
  401: "No key, or a malformed, unknown, revoked or expired one (with a WWW-Authenticate: Bearer challenge).",
  404: "No such model, version, label, tenant, key or route (a model the tenant may not call is not found either).",
  408: "The request body stalled, or arrived slower than the minimum rate.",
  409: "The write conflicts with the repository's state.",
  411: "A large body was sent without Content-Length.",
  412: "If-Match names a config that has changed since it was read.",
  413: "The body (or the answer) is larger than the limit; the message names it.",
  415: "The body's media type or Content-Encoding is not one the route takes.",
  429: "The tenant's rate or daily quota ran out (Retry-After and RateLimit-* headers say when to retry).",
  501: "The route exists in the protocol but not for ONNX models.",
  503: "The model cannot be loaded or run now, the rate limiter is unreachable, or the isolate's memory for request bodies is taken (Retry-After).",
  504: "The request's deadline (parameters.timeout, or the model's queue policy) passed before it ran; it never ran.",
  507: "Loading or running the model needs more of onnxruntime's heap than ORT_HEAP_MAX_BYTES allows.",
};

type Kind = "tenant" | "admin" | "public";
type Responses = Record<string, unknown>;

/** The security requirement of each kind of route: a tenant's API key, the admin token, or none. */
const SECURITY: Record<Kind, OpenAPIV3_1.SecurityRequirementObject[]> = { tenant: [{ apiKey: [] }], admin: [{ adminToken: [] }], public: [] };
/** Statuses every route of a kind may answer, whatever it does. */
const ALWAYS: Record<Kind, number[]> = { tenant: [401, 429, 503], admin: [401, 503], public: [] };

/** A JSON response with `schema` (and an example of it). */
export function json(description: string, schema: z.ZodType, example?: unknown) {
  return { description, content: { "application/json": { schema: resolver(schema), ...(example === undefined ? {} : { example }) } } };
}

/** A JSON request body with `schema` (and an example of it). */
export function jsonBody(schema: z.ZodType, example?: unknown, required = true) {
  return { required, content: { "application/json": { schema: resolver(schema), ...(example === undefined ? {} : { example }) } } };
}

export interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  /** Who may call it. */
  kind: Kind;
  parameters?: OpenAPIV3_1.ParameterObject[];
  requestBody?: unknown;
  /** The route's own answers; the errors it adds to its kind's. */
  responses: Record<number, unknown>;
  errors?: number[];
}

/** The error responses `statuses` in the shape of the route's API. */
export function errorResponses(kind: Kind, statuses: readonly number[]): Responses {
  const schema = kind === "admin" ? AdminError : ProtocolError;
  return Object.fromEntries([...new Set(statuses)].sort().map((s) => [String(s), json(STATUS_TEXT[s] ?? "Error", schema)]));
}

/** Declares a route's operation: its summary, who may call it, its body and its answers. */
export function operation(op: Operation) {
  const responses = { ...errorResponses(op.kind, [...ALWAYS[op.kind], ...(op.errors ?? [])]), ...op.responses };
  const described = describeRoute({
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security: SECURITY[op.kind],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses,
  } as Parameters<typeof describeRoute>[0]);
  // hono-openapi's middleware is async and awaits next(): one more promise on every request. A
  // plain one carrying the same description (found through uniqueSymbol) costs none.
  const plain: MiddlewareHandler = (_c, next) => next();
  Object.defineProperty(plain, "name", { value: "describeRoute" });
  return Object.assign(plain, { [uniqueSymbol]: (described as unknown as Record<typeof uniqueSymbol, unknown>)[uniqueSymbol] });
}

/** A path parameter. */
export function pathParam(name: string, description: string, example?: string): OpenAPIV3_1.ParameterObject {
  return { name, in: "path", required: true, description, schema: { type: "string" }, ...(example ? { example } : {}) };
}

/** A header parameter. */
export function headerParam(name: string, description: string): OpenAPIV3_1.ParameterObject {
  return { name, in: "header", required: false, description, schema: { type: "string" } };
}

/** A query parameter. */
export function queryParam(name: string, description: string, required = false): OpenAPIV3_1.ParameterObject {
  return { name, in: "query", required, description, schema: { type: "string" } };
}
