/**
 * @module http/openapi/admin-docs: the admin API's part of the OpenAPI document (admin token only;
 * errors are `{"error", "code"}`). Request bodies are the schemas the handlers validate with.
 */
import { z } from "zod";
import { ModelConfigUpdateSchema } from "../../serving/config";
import { PolicySchema } from "../../ratelimit/policy";
import { KeyRequestSchema } from "../key-request";
import { headerParam, json, jsonBody, operation, pathParam, queryParam } from "./describe";

const TENANTS = ["Admin: tenants and keys"];
const MODELS = ["Admin: models"];
const OPS = ["Admin: operations"];

const tenant = pathParam("tenant", "the tenant's name", "acme");
const model = pathParam("model", "the model's name", "iris");
const version = pathParam("version", "a version (a positive integer)", "1");
const keyId = pathParam("id", "the key's id (key_ and 16 hex digits)", "key_0123456789abcdef");

const Policy = z
  .object({
    requests_per_minute: z.number().int(),
    burst: z.number().int(),
    daily_quota: z.number().int().nullable(),
    models: z.union([z.literal("*"), z.array(z.string())]),
    admission: z.enum(["exact", "leased"]),
  })
  .meta({ id: "tenant_policy" });
const Tenant = z.object({ tenant: z.string(), policy: Policy, created_at: z.string(), updated_at: z.string() }).meta({ id: "tenant" });
const KeyView = z
  .object({
    id: z.string(),
    prefix: z.string(),
    name: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    status: z.enum(["active", "expired", "revoked"]),
  })
  .meta({ id: "api_key" });
const NewKey = KeyView.extend({ tenant: z.string(), key: z.string().describe("the key itself: shown once, stored only as its SHA-256 hash") }).meta({ id: "new_api_key" });
const Usage = z.object({ tenant: z.string(), days: z.array(z.looseObject({ date: z.string(), accepted: z.number() })) }).meta({ id: "tenant_usage" });
/** Admin views whose fields are documented in docs/ and grow with the service: objects with the model named. */
const modelView = (id: string, description: string) => z.looseObject({ model: z.string() }).meta({ id, description });
const Published = z
  .looseObject({ model: z.string(), version: z.number().int(), sha256: z.string(), size: z.number().int(), etag: z.string(), uploaded: z.string(), created: z.boolean() })
  .meta({ id: "published_version" });
const Deleted = z.object({ model: z.string(), version: z.number().int(), deleted: z.literal(true), sha256: z.string().nullable(), size: z.number().int() }).meta({ id: "deleted_version" });
const labelsFile = pathParam("file", "the labels file's name, ending in .txt", "iris-classes.txt");
const LabelsPublished = z
  .object({ model: z.string(), file: z.string(), labels: z.number().int(), sha256: z.string(), etag: z.string(), created: z.boolean() })
  .meta({ id: "published_labels" });
const LabelsView = z.object({ model: z.string(), file: z.string(), etag: z.string(), labels: z.array(z.string()) }).meta({ id: "labels_file" });
const LabelsDeleted = z.object({ model: z.string(), file: z.string(), deleted: z.literal(true) }).meta({ id: "deleted_labels" });
const ConfigView = z.looseObject({ model: z.string(), config: z.record(z.string(), z.unknown()), etag: z.string().nullable() }).meta({ id: "model_config_view" });
const ModelList = z.object({ models: z.array(z.looseObject({ name: z.string(), versions: z.array(z.number().int()), latest: z.number().int() })) }).meta({ id: "model_list" });

const POLICY_EXAMPLE = { requests_per_minute: 600, burst: 60, daily_quota: 100000, models: ["iris", "silero-vad"] };

/** Every admin route's operation. */
export const adminDocs = {
  putTenant: operation({
    summary: "Create or replace a tenant",
    tags: TENANTS,
    kind: "admin",
    parameters: [tenant],
    requestBody: jsonBody(PolicySchema, POLICY_EXAMPLE),
    responses: { 200: json("Replaced.", Tenant), 201: json("Created.", Tenant) },
    errors: [400],
  }),
  listTenants: operation({
    summary: "List tenants",
    tags: TENANTS,
    kind: "admin",
    parameters: [queryParam("cursor", "from the previous page's cursor")],
    responses: { 200: json("A page of tenant names.", z.object({ tenants: z.array(z.string()), cursor: z.string().optional() }).meta({ id: "tenant_list" })) },
  }),
  getTenant: operation({ summary: "Read a tenant", tags: TENANTS, kind: "admin", parameters: [tenant], responses: { 200: json("The tenant.", Tenant) }, errors: [400, 404] }),
  createKey: operation({
    summary: "Create an API key",
    description: "The key is in this answer only; the service keeps its SHA-256 hash.",
    tags: TENANTS,
    kind: "admin",
    parameters: [tenant],
    requestBody: jsonBody(KeyRequestSchema, { name: "web app", expires_in_seconds: 2592000 }, false),
    responses: { 201: json("The new key.", NewKey) },
    errors: [400, 404],
  }),
  listKeys: operation({
    summary: "List a tenant's keys",
    tags: TENANTS,
    kind: "admin",
    parameters: [tenant],
    responses: { 200: json("The keys (never the keys themselves).", z.object({ tenant: z.string(), keys: z.array(KeyView) }).meta({ id: "api_key_list" })) },
    errors: [400, 404],
  }),
  revokeKey: operation({ summary: "Revoke an API key", tags: TENANTS, kind: "admin", parameters: [tenant, keyId], responses: { 200: json("The revoked key.", KeyView) }, errors: [400, 404] }),
  usage: operation({ summary: "A tenant's daily usage", tags: TENANTS, kind: "admin", parameters: [tenant], responses: { 200: json("Requests per UTC day.", Usage) }, errors: [400, 404] }),
  listModels: operation({ summary: "List models", tags: MODELS, kind: "admin", responses: { 200: json("Every model, its versions, labels and routing.", ModelList) } }),
  getModel: operation({ summary: "Read a model", tags: MODELS, kind: "admin", parameters: [model], responses: { 200: json("Its versions, config, routing and shadow.", z.looseObject({ name: z.string(), versions: z.array(z.looseObject({ version: z.number().int() })) }).meta({ id: "model_view", description: "a model as published, routed and loaded" })) }, errors: [400, 404] }),
  publishVersion: operation({
    summary: "Publish a version",
    description: "The body is the ONNX file. The model is loaded and run once on zeros before it is published.",
    tags: MODELS,
    kind: "admin",
    parameters: [model, version],
    requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } } },
    responses: { 200: json("Already published with these bytes.", Published), 201: json("Published.", Published) },
    errors: [400, 408, 409, 411, 413, 415, 507],
  }),
  deleteVersion: operation({ summary: "Delete a version", tags: MODELS, kind: "admin", parameters: [model, version], responses: { 200: json("Deleted.", Deleted) }, errors: [400, 404, 409] }),
  publishLabels: operation({
    summary: "Publish a labels file",
    description: "One label per line, for an output's classes (docs/classification.md). Immutable: the same bytes again are a 200, other bytes a 409.",
    tags: MODELS,
    kind: "admin",
    parameters: [model, labelsFile],
    requestBody: { required: true, content: { "text/plain": { schema: { type: "string" }, example: "setosa\nversicolor\nvirginica\n" } } },
    responses: { 200: json("Already published with these bytes.", LabelsPublished), 201: json("Published.", LabelsPublished) },
    errors: [400, 404, 408, 409, 411, 413, 415],
  }),
  getLabels: operation({ summary: "Read a labels file", tags: MODELS, kind: "admin", parameters: [model, labelsFile], responses: { 200: json("Its labels, in class order.", LabelsView) }, errors: [400, 404] }),
  deleteLabels: operation({ summary: "Delete a labels file the config does not name", tags: MODELS, kind: "admin", parameters: [model, labelsFile], responses: { 200: json("Deleted.", LabelsDeleted) }, errors: [400, 404, 409] }),
  getConfig: operation({ summary: "Read a model's config", tags: MODELS, kind: "admin", parameters: [model], responses: { 200: json("The config and its ETag.", ConfigView) }, errors: [400, 404] }),
  putConfig: operation({
    summary: "Replace a model's config",
    description: "Send If-Match with the ETag you read, so that a write made since is not lost (412).",
    tags: MODELS,
    kind: "admin",
    parameters: [model, headerParam("If-Match", "the ETag of the config read")],
    requestBody: jsonBody(ModelConfigUpdateSchema, { labels: { stable: 1 }, default_version: 1 }),
    responses: { 200: json("Written.", ConfigView) },
    errors: [400, 404, 409, 412],
  }),
  drift: operation({ summary: "Input drift report", tags: OPS, kind: "admin", parameters: [model, queryParam("hours", "hourly windows, 1 to 168 (24)")], responses: { 200: json("Per version and tensor.", modelView("drift_report", "drift of each input and output against its baseline")) }, errors: [400] }),
  pinBaseline: operation({
    summary: "Pin a drift baseline",
    tags: OPS,
    kind: "admin",
    parameters: [model, queryParam("version", "the version whose recent traffic becomes the baseline", true)],
    responses: { 200: json("Pinned.", modelView("drift_baseline", "the baseline pinned")) },
    errors: [400, 409],
  }),
  alerts: operation({ summary: "Alert rules and their states", tags: OPS, kind: "admin", parameters: [model], responses: { 200: json("The rules.", modelView("alert_states", "each alert rule and whether it fires")) }, errors: [400] }),
  shadow: operation({ summary: "Shadow traffic comparison", tags: OPS, kind: "admin", parameters: [model], responses: { 200: json("The comparison.", modelView("shadow_view", "the shadow version's agreement with the primary")) }, errors: [400] }),
  resetShadow: operation({ summary: "Reset the shadow comparison", tags: OPS, kind: "admin", parameters: [model], responses: { 200: json("Reset.", modelView("shadow_reset", "what was reset")) }, errors: [400] }),
  modelStats: operation({
    summary: "A model's statistics over time",
    tags: OPS,
    kind: "admin",
    parameters: [model, queryParam("minutes", "the window, 1 to 1440 (60)")],
    responses: { 200: json("Totals and a per-minute series.", modelView("model_stats_series", "totals, and requests, errors and latency per minute")) },
    errors: [400],
  }),
  isolate: operation({
    summary: "This isolate's state",
    description: "Sessions loaded, memory, and request bodies in flight, in the isolate that answers (each isolate has its own).",
    tags: OPS,
    kind: "admin",
    responses: { 200: json("The isolate.", z.looseObject({}).meta({ id: "isolate_view" })) },
  }),
  metrics: operation({
    summary: "Prometheus metrics",
    tags: OPS,
    kind: "admin",
    responses: { 200: { description: "Prometheus text exposition format 0.0.4.", content: { "text/plain; version=0.0.4": { schema: { type: "string" } } } } },
  }),
};
