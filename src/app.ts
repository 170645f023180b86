/** @module app: the composition root. Builds the Hono app and mounts each protocol's sub-app. */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { ServingError } from "./errors";
import { adminAuth, apiKeyAuth } from "./auth/middleware";
import { admin } from "./http/admin";
import { adminIsolate } from "./http/admin-isolate";
import { adminModels } from "./http/admin-models";
import { adminStats } from "./http/admin-stats";
import { requestCoding } from "./http/content-coding";
import { corsForAllowedOrigins } from "./http/cors";
import { kserveV2 } from "./http/kserve-v2";
import { bodyIntake } from "./http/body-intake";
import { SERVER_NAME, SERVER_VERSION } from "./http/server-info";
import { tfServing } from "./http/tf-serving";
import { adminDocs } from "./http/openapi/admin-docs";
import { documentDocs, openApiDocument } from "./http/openapi/document";
import { flushNow, requestLog } from "./monitoring/request-log";
import { prometheusText } from "./monitoring/stats-view";
import { rateLimit } from "./ratelimit/middleware";
import { admitWithListing } from "./serving/prefetch";
import { HEADER_LENGTH } from "./tensor/kserve-binary";
import { settings } from "./settings";
import { withIsolateCore } from "./isolate-core";

/** The largest body sent without Content-Length (a model upload excepted): 411 beyond it. */
export const MAX_UNDECLARED_BYTES = 1024 * 1024;

/** A model upload: PUT /admin/models/{m}/versions/{v}, whose body limit is MAX_MODEL_BYTES. */
const isModelUpload = (method: string, path: string) => method === "PUT" && /^\/admin\/models\/[^/]+\/versions\/[^/]+$/.test(path);

/**
 * Renders any error in the shape of the API it happened in: `{"error"}` for KServe V2 and TF
 * Serving (their specs' shape), `{"error", "code"}` for the admin API and /metrics.
 */
function renderError(err: Error, c: Context<AppEnv>) {
  const withCode = c.req.path.startsWith("/admin") || c.req.path === "/metrics";
  if (err instanceof ServingError) {
    return c.json(withCode ? { error: err.message, code: err.code } : { error: err.message }, err.status, err.headers);
  }
  // Unexpected: log what failed, never headers or bodies (they may hold keys or payloads).
  console.error(JSON.stringify({ level: "error", method: c.req.method, path: c.req.path, error: String(err.stack ?? err) }));
  return c.json(withCode ? { error: "internal error", code: "internal" } : { error: "internal error" }, 500);
}

/** The probes a load balancer calls without a key, and the API's own description. */
export const PUBLIC_PATHS = ["/v2/health/live", "/v2/health/ready", "/openapi.json"] as const;

/** Builds the Worker's HTTP application. */
export function createApp() {
  const app = new Hono<AppEnv>();

  // First: every later middleware and handler reaches the isolate's state through `core`.
  app.use("*", withIsolateCore());
  app.use("*", requestLog());
  // Before any key is asked for: a browser's preflight carries none.
  app.use("*", corsForAllowedOrigins());
  // One plain (not async) middleware for every request: the body limit.
  app.use("*", (c, next) => {
    if (c.req.method !== "POST" && c.req.method !== "PUT") return next();
    // A Worker is handed a request body as sent: a compressed one is decompressed once the caller
    // is admitted (bodyIntake), within the same limit as an uncompressed one; a coding other
    // than gzip or deflate is a 415 here.
    const coding = requestCoding(c.req.header("content-encoding"));
    const upload = isModelUpload(c.req.method, c.req.path);
    const limits = settings(c.env);
    const requestMax = limits.MAX_REQUEST_BYTES;
    // Every body but a model upload or a KServe binary one (Inference-Header-Content-Length on a
    // /v2 route; TF Serving reads any body as JSON) is JSON.
    const json = !upload && !(c.req.header(HEADER_LENGTH) !== undefined && c.req.path.startsWith("/v2/"));
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
    // A declared length is checked here, before anything is read. A body sent without one is
    // read whole, within its limit, once the caller is known and admitted (bodyIntake), so it
    // may be no larger than MAX_UNDECLARED_BYTES (a model upload, behind the admin token, excepted).
    const declared = c.req.header("content-length");
    const kind = upload ? "upload" : json ? "json" : "binary";
    const compressed = coding
      ? {
          coding: {
            name: coding,
            limit: max,
            overLimit: () => new ServingError("payload_too_large", `${tooLarge().message} (its size decompressed, from Content-Encoding: ${coding})`),
          },
        }
      : {};
    if (declared !== undefined && !c.req.header("transfer-encoding")) {
      if (Number(declared) > max) throw tooLarge();
      c.set("body", { kind, declared: Number(declared), limit: max, overLimit: tooLarge, ...compressed });
      return next();
    }
    const limit = upload ? max : Math.min(max, MAX_UNDECLARED_BYTES);
    const overLimit = () =>
      limit < max
        ? new ServingError("length_required", `a request body without Content-Length may be at most ${limit} bytes; send Content-Length (up to ${max} bytes)`)
        : tooLarge();
    c.set("body", { kind, declared: null, limit, overLimit, ...compressed });
    return next();
  });

  // Once the caller is known and admitted, and only then: the body is read as it arrives, holding
  // its share of the isolate's memory for bodies until the response is made.
  const admitBody = bodyIntake();

  app.get("/openapi.json", documentDocs.openapi, openApiDocument(app));
  app.get("/", documentDocs.root, (c) =>
    c.json({
      name: SERVER_NAME,
      version: SERVER_VERSION,
      docs: "/docs",
      openapi: "/openapi.json",
      protocols: { kserve_v2: "/v2", tf_serving: "/v1/models/{model}" },
    }),
  );
  // Every protocol route needs a tenant key and passes the tenant's rate limit, except the
  // health probes; every admin route needs the admin token.
  // "/v2/*" also matches "/v2" itself: one registration, so each request pays one token.
  const auth = apiKeyAuth();
  const limit = rateLimit();
  const publicPaths = new Set<string>(PUBLIC_PATHS);
  // Once the caller is known, the model's listing is read while its admission is decided.
  const keyed: MiddlewareHandler<AppEnv> = (c, next) =>
    publicPaths.has(c.req.path)
      ? next()
      : auth(c, async () => {
          await admitWithListing(
            c.req.path,
            (model) => c.get("service").snapshot(model),
            () =>
              limit(c, async () => {
                await admitBody(c, next);
              }),
          );
        });
  app.use("/v2/*", keyed);
  app.use("/v1/*", keyed);
  app.use("/admin/*", adminAuth(), admitBody);

  app.get("/metrics", adminDocs.metrics, adminAuth(), async (c) => {
    await flushNow(c);
    const names = await c.get("service").models.models();
    const models = await Promise.all(
      names.map(async (model) => ({ model, ...(await c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model)).requestStats()) })),
    );
    return c.text(prometheusText(models.map((m) => ({ model: m.model, rows: m.requests, loads: m.loads, executions: m.executions, cache: m.cache }))), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  app.route("/v2", kserveV2);
  app.route("/v1", tfServing);
  app.route("/admin/models", adminModels);
  app.route("/admin/models", adminStats);
  app.route("/admin/isolate", adminIsolate);
  app.route("/admin", admin);

  app.notFound((c) => renderError(new ServingError("not_found", `no route for ${c.req.method} ${c.req.path}`), c));
  app.onError(renderError);
  return app;
}
