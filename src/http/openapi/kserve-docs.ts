/**
 * @module http/openapi/kserve-docs: the KServe V2 routes' part of the OpenAPI document, with the
 * paths, schema names and field names of KServe's rest_predict_v2.yaml (open_inference_rest.yaml).
 */
import { z } from "zod";
import { DATATYPES } from "../../tensor/datatype";
import { HEADER_LENGTH } from "../../tensor/kserve-binary";
import { InferRequestBody } from "../../tensor/kserve-json";
import { RepositoryIndexEntry, RepositoryIndexRequest } from "../repository-index";
import { CLIENT_ID_HEADER, LABEL_HEADER } from "../selector";
import { headerParam, json, jsonBody, operation, pathParam } from "./describe";

const TAG = ["KServe V2"];

const MetadataServer = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }).meta({ id: "metadata_server_response" });
const MetadataTensor = z.object({ name: z.string(), datatype: z.enum(DATATYPES), shape: z.array(z.number().int()) }).meta({ id: "metadata_tensor" });
const MetadataModel = z
  .object({ name: z.string(), versions: z.array(z.string()), platform: z.string(), inputs: z.array(MetadataTensor), outputs: z.array(MetadataTensor) })
  .meta({ id: "metadata_model_response" });
const ResponseOutput = z
  .object({
    name: z.string(),
    shape: z.array(z.number().int()),
    datatype: z.enum(DATATYPES),
    parameters: z.record(z.string(), z.unknown()).optional(),
    data: z.array(z.unknown()).optional().describe("row-major elements; absent when the output follows the JSON as binary data (parameters.binary_data_size)"),
  })
  .meta({ id: "response_output" });
const InferResponse = z
  .object({ model_name: z.string(), model_version: z.string(), id: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional(), outputs: z.array(ResponseOutput) })
  .meta({ id: "inference_response" });
const Live = z.object({ live: z.boolean() }).meta({ id: "server_live_response" });
const Ready = z.object({ ready: z.boolean() }).meta({ id: "server_ready_response" });
const ModelReady = z.object({ name: z.string(), ready: z.boolean() }).meta({ id: "model_ready_response" });
const Stats = z
  .object({ model_stats: z.array(z.looseObject({ name: z.string(), version: z.string(), inference_count: z.number(), execution_count: z.number() })) })
  .meta({ id: "model_statistics_response", description: "Triton's statistics extension" });

const model = pathParam("model_name", "the model's name", "iris");
const version = pathParam("model_version", "a published version (a positive integer)", "1");
const label = headerParam(LABEL_HEADER, "serve the version this label names (when the URL names no version)");
const client = headerParam(CLIENT_ID_HEADER, "the end client, so that a traffic split keeps sending it to one version");

const IRIS_REQUEST = { id: "42", inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }], outputs: [{ name: "label" }] };
const IRIS_RESPONSE = { model_name: "iris", model_version: "1", id: "42", outputs: [{ name: "label", datatype: "INT64", shape: [1], data: [0] }] };

/** The binary tensor data extension: a JSON header, then the tensors' bytes. */
const BINARY_BODY =
  `A JSON body, or Triton's binary tensor data extension (application/octet-stream): the JSON inference_request (its first ${HEADER_LENGTH} bytes), in which an input with ` +
  "parameters.binary_data_size has no data, then each such input's raw little-endian bytes in order (BYTES elements are each a 4-byte length and the bytes). " +
  "With Inference-Header-Content-Length: 0, the whole body is the single input's bytes.";
const octets = { schema: { type: "string", contentMediaType: "application/octet-stream" } };

const inferOperation = (versioned: boolean) =>
  operation({
    summary: versioned ? "Inference on a version" : "Inference",
    description:
      "Runs the model. The body is JSON, or (with Inference-Header-Content-Length) a JSON header followed by binary tensors. " +
      "Outputs come back as binary data when the request asks for it (parameters.binary_data_output, or an output's parameters.binary_data): " +
      "the answer is then application/octet-stream with its own Inference-Header-Content-Length.",
    tags: TAG,
    kind: "tenant",
    parameters: [...(versioned ? [model, version] : [model, label, client]), headerParam(HEADER_LENGTH, "length of the JSON header of a binary body"), headerParam("X-Request-Id", "echoed; a new id when absent"),
      headerParam("Inference-Timeout-Microseconds", "the request's deadline, as parameters.timeout (the body's wins); docs/scheduling.md"),
      headerParam("Inference-Priority", "the request's priority level, as parameters.priority (the body's wins)"),
      headerParam("Cache-Control", "no-cache skips the model's response cache lookup, no-store keeps nothing; docs/response-cache.md")],
    requestBody: { required: true, description: BINARY_BODY, content: { ...jsonBody(InferRequestBody, IRIS_REQUEST).content, "application/octet-stream": octets } },
    responses: {
      200: {
        ...json("The model's outputs (X-Model-Version names the version that ran); as application/octet-stream, the inference_response JSON then the binary outputs.", InferResponse, IRIS_RESPONSE),
        headers: {
          "X-Model-Version": { schema: { type: "string" }, description: "the version that answered" },
          [HEADER_LENGTH]: { schema: { type: "string" }, description: "set when outputs follow the JSON as binary data" },
          "Cache-Status": { schema: { type: "string" }, description: "RFC 9211, for a model with a response cache: hit, or fwd=miss / fwd=request" },
        },
        content: {
          ...json("", InferResponse, IRIS_RESPONSE).content,
          "application/octet-stream": octets,
        },
      },
    },
    errors: [400, 404, 408, 411, 413, 415, 504, 507],
  });

const metadataOperation = (versioned: boolean) =>
  operation({
    summary: versioned ? "Model metadata of a version" : "Model metadata",
    tags: TAG,
    kind: "tenant",
    parameters: versioned ? [model, version] : [model, label],
    responses: { 200: json("The model's inputs and outputs.", MetadataModel, { name: "iris", versions: ["1"], platform: "onnxruntime_onnx", inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }], outputs: [{ name: "label", datatype: "INT64", shape: [-1] }] }) },
    errors: [400, 404, 507],
  });

const readyOperation = (versioned: boolean) =>
  operation({
    summary: versioned ? "Model version ready" : "Model ready",
    description: "Loads the model (version) if it is not loaded, and says whether it is ready.",
    tags: TAG,
    kind: "tenant",
    parameters: versioned ? [model, version] : [model, label],
    responses: { 200: json("Ready.", ModelReady, { name: "iris", ready: true }) },
    errors: [400, 404, 507],
  });

const statsOperation = (versioned: boolean) =>
  operation({
    summary: versioned ? "Statistics of a version" : "Model statistics",
    description: "Triton's statistics extension: requests, failures and times, counted across isolates.",
    tags: TAG,
    kind: "tenant",
    parameters: versioned ? [model, version] : [model],
    responses: { 200: json("The model's statistics.", Stats) },
    errors: [400, 404],
  });

/** Every KServe V2 route's operation. */
export const kserveDocs = {
  live: operation({ summary: "Server live", tags: TAG, kind: "public", responses: { 200: json("The server can answer.", Live, { live: true }) } }),
  ready: operation({ summary: "Server ready", tags: TAG, kind: "public", responses: { 200: json("The server is ready.", Ready, { ready: true }) } }),
  server: operation({
    summary: "Server metadata",
    tags: TAG,
    kind: "tenant",
    responses: { 200: json("The server's name, version and extensions.", MetadataServer, { name: "edge-inference", version: "0.1.0", extensions: ["binary_tensor_data", "statistics", "model_repository"] }) },
  }),
  repositoryIndex: operation({
    summary: "Repository index",
    description: "Triton's model repository extension, read-only: every version of the models this key's tenant may call. Loading and unloading are the admin API's.",
    tags: TAG,
    kind: "tenant",
    requestBody: jsonBody(RepositoryIndexRequest, { ready: true }, false),
    responses: { 200: json("One entry per version.", z.array(RepositoryIndexEntry).meta({ id: "repository_index_response" }), [{ name: "iris", version: "1", state: "READY", reason: "" }]) },
    errors: [400],
  }),
  metadata: metadataOperation(false),
  versionMetadata: metadataOperation(true),
  modelReady: readyOperation(false),
  versionReady: readyOperation(true),
  stats: statsOperation(false),
  versionStats: statsOperation(true),
  infer: inferOperation(false),
  versionInfer: inferOperation(true),
};
