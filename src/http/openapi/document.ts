/**
 * @module http/openapi/document: GET /openapi.json, the OpenAPI 3.1 document generated from the
 * routes' own declarations (hono-openapi walks the app's route table) and TF Serving's paths.
 */
import type { Handler, Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import { z } from "zod";
import type { AppEnv } from "../../env";
import { SERVER_NAME, SERVER_VERSION } from "../server-info";
import { json, operation } from "./describe";
import { tfServingPaths } from "./tf-docs";

const DESCRIPTION = [
  "ONNX models served from R2 over two protocols: KServe V2 (the Open Inference Protocol, with Triton's binary tensor data,",
  "statistics and model repository extensions) under /v2, and TF Serving's REST API under /v1. An operator's admin API is under /admin.",
  "",
  "Protocol routes take a tenant's API key, admin routes the admin token, both as `Authorization: Bearer ...`.",
  "The health probes, this document and / take neither.",
  "",
  "Binary tensors: send `Inference-Header-Content-Length: <n>` with an application/octet-stream body whose first n bytes are the",
  "JSON inference_request; inputs with `parameters.binary_data_size` have their raw bytes after it, in order.",
].join("\n");

const Root = z
  .object({ name: z.string(), version: z.string(), docs: z.string(), openapi: z.string(), protocols: z.object({ kserve_v2: z.string(), tf_serving: z.string() }) })
  .meta({ id: "server_links" });

/** The routes of this module: GET / and GET /openapi.json. */
export const documentDocs = {
  root: operation({
    summary: "What this server is, and where its documentation is",
    tags: ["Server"],
    kind: "public",
    responses: { 200: json("Links to the docs page, this document and each protocol.", Root) },
  }),
  openapi: operation({ summary: "This OpenAPI document", tags: ["Server"], kind: "public", responses: { 200: { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } }),
};

async function build(app: Hono<AppEnv>): Promise<object> {
  const tf = await tfServingPaths();
  const spec = await generateSpecs(app as unknown as Hono, {
    // Its default leaves out paths that look like files, /openapi.json among them.
    excludeStaticFile: false,
    documentation: {
      openapi: "3.1.0",
      info: { title: SERVER_NAME, version: SERVER_VERSION, description: DESCRIPTION, license: { name: "Apache-2.0", identifier: "Apache-2.0" } },
      tags: [
        { name: "KServe V2", description: "Open Inference Protocol REST (KServe rest_predict_v2.yaml), with Triton's extensions" },
        { name: "TF Serving", description: "TensorFlow Serving REST API (api_rest.md): status, metadata and predict" },
        { name: "Admin: tenants and keys", description: "Tenants, their policies, their API keys and usage" },
        { name: "Admin: models", description: "Publishing versions and writing configs" },
        { name: "Admin: operations", description: "Statistics, drift, alerts, shadow traffic, metrics" },
        { name: "Server", description: "This server and its documentation" },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: "http", scheme: "bearer", bearerFormat: "eik_ followed by 43 base64url characters", description: "A tenant's API key (POST /admin/tenants/{tenant}/keys)." },
          adminToken: { type: "http", scheme: "bearer", description: "The operator's token: the ADMIN_TOKEN secret." },
        },
        schemas: tf.schemas as never,
      },
      paths: tf.paths as never,
    },
  });
  return spec;
}

/** Serves the document, built once per isolate on its first request. */
export function openApiDocument(app: Hono<AppEnv>): Handler<AppEnv> {
  let document: Promise<object> | undefined;
  return async function openApiHandler(c) {
    document ??= build(app).catch((e: unknown) => {
      document = undefined;
      throw e;
    });
    return c.json(await document);
  };
}
