/** @module app: the composition root. Builds the Hono app and mounts each protocol's sub-app. */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { deferrer } from "./defer";
import { ServingError } from "./errors";
import { adminAuth, apiKeyAuth } from "./auth/middleware";
import { adminTenants } from "./http/admin-tenants";
import { adminIsolate } from "./http/admin-isolate";
import { adminModels } from "./http/admin-models";
import { adminStats } from "./http/admin-stats";
import { corsForAllowedOrigins } from "./http/cors";
import { kserveV2 } from "./http/kserve-v2";
import { bodyIntake } from "./http/body-intake";
import { bodyLimit } from "./http/body-limit";
import { SERVER_NAME, SERVER_VERSION } from "./http/server-info";
import { tfServing } from "./http/tf-serving";
import { adminDocs } from "./http/openapi/admin-docs";
import { documentDocs, openApiDocument } from "./http/openapi/document";
import { flushNow, isolateStats, requestLog } from "./monitoring/request-log";
import { prometheusText } from "./monitoring/stats-view";
import { rateLimit } from "./ratelimit/middleware";
import { admitWithListing } from "./serving/prefetch";
import { HEADER_LENGTH } from "./tensor/kserve-binary";
import { ModelService, servingSettings } from "./serving/service";

/** A model upload: PUT /admin/models/{m}/versions/{v}, whose body limit is MAX_MODEL_BYTES. */
const isModelUpload = (c: Context<AppEnv>) => c.req.method === "PUT" && /^\/admin\/models\/[^/]+\/versions\/[^/]+$/.test(c.req.path);

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

  app.use("*", requestLog());
  // Before any key is asked for: a browser's preflight carries none.
  app.use("*", corsForAllowedOrigins());
  // Plain (not async), for every request: the serving core.
  app.use("*", (c, next) => {
    c.set("service", new ModelService(c.env.MODELS, servingSettings(c.env), deferrer(c), isolateStats));
    return next();
  });
  // A KServe body with Inference-Header-Content-Length is binary; any other body is JSON.
  app.use("*", bodyLimit({ upload: isModelUpload, binary: (c) => c.req.header(HEADER_LENGTH) !== undefined && c.req.path.startsWith("/v2/") }));

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
  app.route("/admin", adminTenants);

  app.notFound((c) => renderError(new ServingError("not_found", `no route for ${c.req.method} ${c.req.path}`), c));
  app.onError(renderError);
  return app;
}
