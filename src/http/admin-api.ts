/**
 * @module http/admin-api: the operators' API under /admin, one sub-app behind one admission (app.ts:
 * the body limit, the admin token, then the body), its errors as `{"error", "code"}`.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { adminIsolate } from "./admin-isolate";
import { adminModels } from "./admin-models";
import { adminStats } from "./admin-stats";
import { adminTenants } from "./admin-tenants";
import { adminErrors, noRoute } from "./error-response";

/** Routes under /admin: models, their statistics, the isolate, tenants and keys. */
export const adminApi = (...admission: MiddlewareHandler<AppEnv>[]) =>
  new Hono<AppEnv>()
    .use("*", ...admission)
    .route("/models", adminModels)
    .route("/models", adminStats)
    .route("/isolate", adminIsolate)
    .route("/", adminTenants)
    .all("*", noRoute)
    .onError(adminErrors);
