/**
 * @module app: the composition root. Builds the Hono app, mounts each API's sub-app and says what
 * a request passes before its handler. The admin sub-apps render their own errors; the protocols'
 * shape is the app's own (http/error-response).
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { adminAuth, apiKeyAuth } from "./auth/middleware";
import { adminApi } from "./http/admin-api";
import { bodyIntake } from "./http/body-intake";
import { bodyLimit } from "./http/body-limit";
import { corsForAllowedOrigins } from "./http/cors";
import { noRoute, protocolErrors } from "./http/error-response";
import { kserveV2 } from "./http/kserve-v2";
import { metrics } from "./http/metrics";
import { SERVER_NAME, SERVER_VERSION } from "./http/server-info";
import { tfServing } from "./http/tf-serving";
import { documentDocs, openApiDocument } from "./http/openapi/document";
import { requestLog } from "./monitoring/request-log";
import { rateLimit } from "./ratelimit/middleware";
import { admitWithListing } from "./serving/prefetch";
import { HEADER_LENGTH } from "./tensor/kserve-binary";
import { withIsolateCore } from "./isolate-core";

/** The probes a load balancer calls without a key, and the API's own description. */
export const PUBLIC_PATHS = ["/v2/health/live", "/v2/health/ready", "/openapi.json"] as const;

/** A model upload: PUT /admin/models/{m}/versions/{v}, whose body limit is MAX_MODEL_BYTES. */
const isModelUpload = (c: Context<AppEnv>) => c.req.method === "PUT" && /^\/admin\/models\/[^/]+\/versions\/[^/]+$/.test(c.req.path);

/** A KServe body with Inference-Header-Content-Length is binary; any other protocol body is JSON. */
const isKServeBinary = (c: Context<AppEnv>) => c.req.header(HEADER_LENGTH) !== undefined;

/** Once the caller is known, the model's listing is read while its admission is decided. */
const listWhileAdmitting: MiddlewareHandler<AppEnv> = (c, next) => admitWithListing(c.req.path, (model) => c.get("service").snapshot(model), next);

/** Builds the Worker's HTTP application. */
export function createApp() {
  const app = new Hono<AppEnv>();

  // First: every later middleware and handler reaches the isolate's state through `core`.
  app.use("*", withIsolateCore());
  app.use("*", requestLog());
  // Before any key is asked for: a browser's preflight carries none.
  app.use("*", corsForAllowedOrigins());

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

  // A protocol request, the health probes excepted, needs a tenant key and passes the tenant's
  // rate limit; only then is its body read. Each body's limit is checked first, from its headers.
  // Registered once per sub-app on "*", which also matches "/v2" itself: one token per request.
  const tenantAdmission = [apiKeyAuth(), listWhileAdmitting, rateLimit(), bodyIntake()];
  app.route("/v2", kserveV2(bodyLimit({ binary: isKServeBinary }), ...tenantAdmission));
  app.route("/v1", tfServing(bodyLimit(), ...tenantAdmission));
  // Every admin route needs the admin token.
  app.route("/metrics", metrics(adminAuth()));
  app.route("/admin", adminApi(bodyLimit({ upload: isModelUpload }), adminAuth(), bodyIntake()));

  // Any other path: a body past its limit is refused as on any route, then a 404.
  app.all("*", bodyLimit(), noRoute);
  app.onError(protocolErrors);
  return app;
}
