/**
 * @module http/openapi/tf-docs: TF Serving REST's part of the OpenAPI document (api_rest.md).
 * Its routes are one Hono route matched by a pattern (a verb follows a colon, `:predict`), so their
 * paths are written out here, one per form of the URL, and added to the document's paths.
 */
import { resolver } from "hono-openapi";
import { z } from "zod";
import { pathParam, STATUS_TEXT } from "./describe";

const TAG = ["TF Serving"];

const PredictRequest = z
  .object({
    signature_name: z.string().optional().describe("'serving_default' or absent: an ONNX model has one signature"),
    instances: z.array(z.unknown()).optional().describe("row format: one entry per example, an object of named inputs or the single input's value"),
    inputs: z.unknown().optional().describe("columnar format: an object of named inputs, or the single input's value"),
  })
  .meta({ id: "tf_predict_request", description: "Exactly one of instances and inputs. Binary values are {\"b64\": \"...\"}." });
const PredictResponse = z
  .object({
    predictions: z.unknown().optional().describe("for a row-format request: a list, one entry per example"),
    outputs: z.unknown().optional().describe("for a columnar request: an object of named outputs, or the single output's value"),
  })
  .meta({ id: "tf_predict_response" });
const VersionStatus = z
  .object({ version: z.string(), state: z.enum(["AVAILABLE", "END"]), status: z.object({ error_code: z.string(), error_message: z.string() }) })
  .meta({ id: "tf_model_version_status" });
const Status = z.object({ model_version_status: z.array(VersionStatus) }).meta({ id: "tf_model_status_response" });
const Metadata = z
  .object({ model_spec: z.object({ name: z.string(), signature_name: z.string(), version: z.string() }), metadata: z.object({ signature_def: z.looseObject({}) }) })
  .meta({ id: "tf_model_metadata_response" });

const SCHEMAS = { PredictRequest, PredictResponse, Status, Metadata };

/** The three forms of a model's URL: latest, a version, a label. */
const FORMS = [
  { suffix: "", params: [], what: "" },
  { suffix: "/versions/{version}", params: [pathParam("version", "a published version", "1")], what: " (a version)" },
  { suffix: "/labels/{label}", params: [pathParam("label", "a label the model's config names", "stable")], what: " (the version a label names)" },
];

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const ok = (description: string, id: string, example?: unknown) => ({ description, content: { "application/json": { schema: ref(id), ...(example === undefined ? {} : { example }) } } });

/** TF Serving's paths, and the schemas they name. */
export async function tfServingPaths(): Promise<{ paths: Record<string, unknown>; schemas: Record<string, unknown> }> {
  const schemas: Record<string, unknown> = {};
  for (const schema of Object.values(SCHEMAS)) {
    const { schema: root, components } = await resolver(schema).toOpenAPISchema();
    Object.assign(schemas, components?.schemas ?? {});
    const id = (schema.meta() as { id: string }).id;
    if (!("$ref" in root)) schemas[id] = root;
  }
  // The KServe routes' error schema, which the same document holds: both protocols answer {"error"}.
  const errors = (statuses: number[]) =>
    Object.fromEntries([...new Set([401, 429, 503, ...statuses])].sort().map((s) => [String(s), { description: STATUS_TEXT[s] ?? "Error", content: { "application/json": { schema: ref("inference_error_response") } } }]));
  const model = pathParam("model_name", "the model's name", "iris");
  const paths: Record<string, unknown> = {};
  for (const form of FORMS) {
    const base = `/v1/models/{model_name}${form.suffix}`;
    const parameters = [model, ...form.params];
    const common = { tags: TAG, security: [{ apiKey: [] }], parameters };
    paths[base] = {
      get: { ...common, operationId: `tfModelStatus${form.suffix ? form.suffix.split("/")[1] : ""}`, summary: `Model status${form.what}`, responses: { 200: ok("The versions' states.", "tf_model_status_response"), ...errors([400, 404, 507]) } },
    };
    paths[`${base}/metadata`] = {
      get: { ...common, operationId: `tfModelMetadata${form.suffix ? form.suffix.split("/")[1] : ""}`, summary: `Model metadata${form.what}`, responses: { 200: ok("The serving_default signature.", "tf_model_metadata_response"), ...errors([400, 404, 507]) } },
    };
    paths[`${base}:predict`] = {
      post: {
        ...common,
        operationId: `tfPredict${form.suffix ? form.suffix.split("/")[1] : ""}`,
        summary: `Predict${form.what}`,
        requestBody: { required: true, content: { "application/json": { schema: ref("tf_predict_request"), example: { instances: [[5.1, 3.5, 1.4, 0.2]] } } } },
        responses: {
          200: { ...ok("The outputs, in the request's format (X-Model-Version names the version).", "tf_predict_response", { predictions: [{ label: 0, probabilities: [0.98, 0.02, 0.0] }] }), headers: { "X-Model-Version": { schema: { type: "string" } } } },
          ...errors([400, 404, 408, 411, 413, 415, 507]),
        },
      },
    };
  }
  paths["/v1/models/{model_name}:classify"] = {
    post: {
      tags: TAG,
      security: [{ apiKey: [] }],
      parameters: [model],
      operationId: "tfClassify",
      summary: "Classify examples (tabular models whose config names features)",
      description: "Each example is an object of the model's features (its config's classification.features). The answer lists every class with its label and score, in class order (docs/classification.md). Other models answer 501 with what :classify needs.",
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["examples"], properties: { examples: { type: "array", items: { type: "object", additionalProperties: { type: "number" } } }, context: { type: "object", additionalProperties: { type: "number" } } } }, example: { examples: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] } } } },
      responses: {
        200: { description: "[label, score] pairs per example.", content: { "application/json": { schema: { type: "object", properties: { results: { type: "array", items: { type: "array", items: { type: "array", prefixItems: [{ type: "string" }, { type: "number" }] } } } } }, example: { results: [[["setosa", 0.99], ["versicolor", 0.01], ["virginica", 0.0]]] } } } },
        ...errors([400, 404, 408, 411, 413, 415, 501, 507]),
      },
    },
  };
  paths["/v1/models/{model_name}:regress"] = {
    post: {
      tags: TAG,
      security: [{ apiKey: [] }],
      parameters: [model],
      operationId: "tfRegress",
      summary: "regress (not for ONNX models)",
      description: "Takes tf.Example inputs, which ONNX models do not; use :predict.",
      responses: errors([501]),
    },
  };
  return { paths, schemas };
}
