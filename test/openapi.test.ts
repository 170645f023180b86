/**
 * GET /openapi.json: valid OpenAPI 3.1 (checked by @seriousme/openapi-schema-validator in Node),
 * every route of the app's route table in it and every path of it a route, KServe's paths and
 * field names, both security schemes, the binary tensor extension, and real answers of every kind
 * matching the schemas it gives.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findTargetHandler } from "hono/utils/handler";
import { createApp } from "../src/app";
import { ADMIN_TOKEN, callRaw, json, setup, tenantKey, testEnv } from "./support/helpers";
import { expectDocumented, openApiDocument } from "./support/openapi";

type Operation = { security?: Record<string, string[]>[]; parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>; securitySchemes: Record<string, unknown> } };

const MIDDLEWARE = new Set(["except", "apiKeyAuthHandler", "rateLimitHandler", "adminAuthHandler", "describeRoute"]);
const METHODS = ["get", "post", "put", "delete"];

let doc: Doc;
let key: string;

beforeAll(async () => {
  await setup();
  key = await tenantKey("openapi", { requests_per_minute: 100_000 });
  doc = (await openApiDocument()) as unknown as Doc;
});

/** A Hono route path as a pattern over the document's paths with their parameters filled in. */
function routePattern(path: string): RegExp {
  const escaped = path.replace(/[.+?^$()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_]+/g, "[^/]+").replace(/\/\*$/, "/.+");
  return new RegExp(`^${escaped}$`);
}
const concrete = (template: string) => template.replace(/\{[^}]+\}/g, "x1");

describe("the document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const res = await testEnv.FIXTURES.fetch("http://fixtures/openapi/validate", { method: "POST", body: JSON.stringify(doc) });
    const result = (await res.json()) as { valid: boolean; version: string; errors?: unknown };
    expect(result.errors).toBeUndefined();
    expect(result).toMatchObject({ valid: true, version: "3.1" });
    expect(doc.openapi).toBe("3.1.0");
  });

  it("documents every route of the app, and documents nothing that is not a route", () => {
    // Middleware (registered on "*" or a prefix's "/*") is not a route; TF Serving's one route is.
    const routes = createApp().routes.filter((r) => !MIDDLEWARE.has(findTargetHandler(r.handler).name) && (!r.path.endsWith("*") || r.path === "/v1/models/*"));
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), path: concrete(path) })));
    for (const route of routes) {
      const pattern = routePattern(route.path);
      const hits = documented.filter((d) => (route.method === "ALL" || d.method === route.method) && pattern.test(d.path));
      expect(hits.length, `${route.method} ${route.path} is not in the document`).toBeGreaterThan(0);
    }
    for (const d of documented) {
      const served = routes.some((r) => (r.method === "ALL" || r.method === d.method) && routePattern(r.path).test(d.path));
      expect(served, `${d.method} ${d.path} is documented but no route serves it`).toBe(true);
    }
  });

  it("keeps KServe's paths, schema names and field names", () => {
    for (const path of ["/v2/health/live", "/v2/health/ready", "/v2/models/{model_name}/ready", "/v2/models/{model_name}/versions/{model_version}/ready", "/v2/models/{model_name}", "/v2/models/{model_name}/versions/{model_version}", "/v2/models/{model_name}/infer", "/v2/models/{model_name}/versions/{model_version}/infer"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const fields = (name: string) => Object.keys(doc.components.schemas[name]?.properties ?? {}).sort();
    expect(fields("inference_request")).toEqual(["id", "inputs", "outputs", "parameters"]);
    expect(fields("request_input")).toEqual(["data", "datatype", "name", "parameters", "shape"]);
    expect(fields("request_output")).toEqual(["name", "parameters"]);
    expect(fields("inference_response")).toEqual(["id", "model_name", "model_version", "outputs", "parameters"]);
    expect(fields("response_output")).toEqual(["data", "datatype", "name", "parameters", "shape"]);
    expect(fields("metadata_model_response")).toEqual(["inputs", "name", "outputs", "platform", "versions"]);
    expect(fields("metadata_server_response")).toEqual(["extensions", "name", "version"]);
    expect(fields("metadata_tensor")).toEqual(["datatype", "name", "shape"]);
    expect(fields("inference_error_response")).toEqual(["error"]);
    expect(doc.components.schemas.inference_request!.required).toEqual(["inputs"]);
  });

  it("has both security schemes, and every operation says which it takes", () => {
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "apiKey"]);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS.filter((x) => item[x])) {
        const scheme = (item[m]!.security ?? []).flatMap((s) => Object.keys(s));
        const want = path.startsWith("/admin") || path === "/metrics" ? ["adminToken"] : ["/", "/openapi.json", "/v2/health/live", "/v2/health/ready"].includes(path) ? [] : ["apiKey"];
        expect(scheme, `${m} ${path}`).toEqual(want);
        if (want.length > 0) expect(Object.keys(item[m]!.responses), `${m} ${path}`).toContain("401");
      }
    }
  });

  it("describes the binary tensor extension on inference, with examples", () => {
    for (const path of ["/v2/models/{model_name}/infer", "/v2/models/{model_name}/versions/{model_version}/infer"]) {
      const op = doc.paths[path]!.post!;
      expect(Object.keys(op.requestBody!.content).sort()).toEqual(["application/json", "application/octet-stream"]);
      expect(op.parameters!.map((p) => p.name)).toContain("Inference-Header-Content-Length");
      expect((op.requestBody!.content["application/json"] as { example?: unknown }).example).toBeDefined();
    }
  });
});

describe("real answers match the document", () => {
  const auth = () => ({ authorization: `Bearer ${key}` });
  const send = async (method: string, url: string, init: { headers?: Record<string, string>; body?: unknown } = {}) => {
    const body = init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    const res = await callRaw(url, { method, headers: { ...(body ? { "content-type": "application/json" } : {}), ...init.headers }, body });
    return { status: res.status, text: await expectDocumented(method, url, res) };
  };
  const iris = { inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] };

  it("for KServe V2 and TF Serving, answers and errors", async () => {
    const cases: [string, string, { headers?: Record<string, string>; body?: unknown }, number][] = [
      ["GET", "/", {}, 200],
      ["GET", "/v2/health/live", {}, 200],
      ["GET", "/v2/health/ready", {}, 200],
      ["GET", "/v2", { headers: auth() }, 200],
      ["GET", "/v2/models/iris", { headers: auth() }, 200],
      ["GET", "/v2/models/iris/versions/1", { headers: auth() }, 200],
      ["GET", "/v2/models/iris/ready", { headers: auth() }, 200],
      ["GET", "/v2/models/iris/stats", { headers: auth() }, 200],
      ["POST", "/v2/models/iris/infer", { headers: auth(), body: iris }, 200],
      ["POST", "/v2/models/iris/versions/1/infer", { headers: auth(), body: { ...iris, id: "x", outputs: [{ name: "label" }] } }, 200],
      ["POST", "/v2/repository/index", { headers: auth(), body: {} }, 200],
      ["POST", "/v2/models/iris/infer", { headers: auth(), body: { inputs: [] } }, 400],
      ["POST", "/v2/models/iris/infer", { body: iris }, 401],
      ["GET", "/v2/models/no-such-model", { headers: auth() }, 404],
      ["GET", "/v1/models/iris", { headers: auth() }, 200],
      ["GET", "/v1/models/iris/versions/1", { headers: auth() }, 200],
      ["GET", "/v1/models/iris/metadata", { headers: auth() }, 200],
      ["POST", "/v1/models/iris:predict", { headers: auth(), body: { instances: [[5.1, 3.5, 1.4, 0.2]] } }, 200],
      ["POST", "/v1/models/iris/versions/1:predict", { headers: auth(), body: { inputs: [[5.1, 3.5, 1.4, 0.2]] } }, 200],
      ["POST", "/v1/models/iris:predict", { headers: auth(), body: { nothing: 1 } }, 400],
      ["POST", "/v1/models/iris:classify", { headers: auth(), body: {} }, 501],
    ];
    for (const [method, url, init, status] of cases) expect((await send(method, url, init)).status, `${method} ${url}`).toBe(status);
  });

  it("for the admin API and metrics", async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const cases: [string, string, { headers?: Record<string, string>; body?: unknown }, number][] = [
      ["PUT", "/admin/tenants/openapi-doc", { headers: admin, body: { requests_per_minute: 60 } }, 201],
      ["PUT", "/admin/tenants/openapi-doc", { headers: admin, body: { requests_per_minute: 60, models: ["iris"] } }, 200],
      ["GET", "/admin/tenants", { headers: admin }, 200],
      ["GET", "/admin/tenants/openapi-doc", { headers: admin }, 200],
      ["POST", "/admin/tenants/openapi-doc/keys", { headers: admin, body: { name: "doc" } }, 201],
      ["GET", "/admin/tenants/openapi-doc/keys", { headers: admin }, 200],
      ["GET", "/admin/tenants/openapi-doc/usage", { headers: admin }, 200],
      ["GET", "/admin/tenants/no-such-tenant", { headers: admin }, 404],
      ["PUT", "/admin/tenants/openapi-doc", { headers: admin, body: { requests_per_minute: "many" } }, 400],
      ["GET", "/admin/models", { headers: admin }, 200],
      ["GET", "/admin/models/iris", { headers: admin }, 200],
      ["GET", "/admin/models/iris/config", { headers: admin }, 200],
      ["GET", "/admin/models/iris/stats", { headers: admin }, 200],
      ["GET", "/admin/models/iris/drift", { headers: admin }, 200],
      ["GET", "/admin/models/iris/alerts", { headers: admin }, 200],
      ["GET", "/admin/models/iris/shadow", { headers: admin }, 200],
      ["GET", "/admin/isolate", { headers: admin }, 200],
      ["GET", "/admin/models", { headers: { authorization: `Bearer ${key}` } }, 401],
      ["GET", "/metrics", { headers: admin }, 200],
    ];
    for (const [method, url, init, status] of cases) expect((await send(method, url, init)).status, `${method} ${url}`).toBe(status);
    const keys = await json<{ keys: { id: string }[] }>(await callRaw("/admin/tenants/openapi-doc/keys", { headers: admin }));
    expect((await send("DELETE", `/admin/tenants/openapi-doc/keys/${keys.keys[0]!.id}`, { headers: admin })).status).toBe(200);
  });
});
