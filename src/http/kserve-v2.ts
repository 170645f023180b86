/**
 * @module http/kserve-v2: the KServe V2 / Open Inference Protocol REST frontend.
 * Spec: kserve docs/predict-api/v2/rest_predict_v2.yaml. Errors are `{"error": "..."}`.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { decodeRawInput, frameBody, HEADER_LENGTH, splitBody } from "../tensor/kserve-binary";
import { decodeInferRequest, encodeInferResponse, type KServeInferRequest } from "../tensor/kserve-json";
import type { TensorSpec } from "../serving/loader";
import { bodyBytes, readJson } from "./body";
import { requestCacheDirectives, cacheHeaders } from "./cache-status";
import { parseModelName, parseVersion } from "../serving/names";
import { flushNow } from "../monitoring/stats-flush";
import { modelStatsJson } from "../monitoring/stats-view";
import { recordPrediction, timedEncode } from "./prediction";
import { limitKServeAnswer, maxResponseBytes } from "./response-limit";
import { callerOf, LABEL_HEADER, selectorFrom } from "./selector";
import { either, scheduleHeaders, scheduleParameters } from "../serving/schedule";
import { SERVER_NAME, SERVER_VERSION, MODEL_VERSION_HEADER } from "./server-info";
import { classifyOutputs } from "../serving/classification";
import { repositoryIndex } from "./repository-index";
import { tfBodyAtKServe } from "./wrong-protocol";
import { kserveDocs as docs } from "./openapi/kserve-docs";
import { noRoute } from "./error-response";

/** The platform name KServe gives ONNX Runtime models. */
const PLATFORM = "onnxruntime_onnx";

type C = Context<AppEnv>;

async function target(c: C) {
  const model = parseModelName(c.req.param("model_name")!);
  const label = c.req.header(LABEL_HEADER);
  const t = await c.get("service").resolve(model, selectorFrom({ version: c.req.param("model_version"), label, caller: callerOf(c) }));
  c.set("served", { model: t.snapshot.name, version: t.entry.version });
  return t;
}

async function metadata(c: C) {
  const t = await target(c);
  const { inputs, outputs } = await c.get("service").signature(t);
  return c.json({
    name: t.snapshot.name,
    // Every published version, from the newest listing (routing may still be on an older one).
    versions: (await c.get("service").snapshot(t.snapshot.name)).versions.map((v) => String(v.version)),
    platform: PLATFORM,
    inputs,
    outputs,
  });
}

async function ready(c: C) {
  const t = await target(c);
  (await c.get("service").lease(t)).lease.release();
  return c.json({ name: t.snapshot.name, ready: true });
}

/**
 * Reads an inference request: JSON, or (with Inference-Header-Content-Length) a JSON header
 * followed by binary tensors, or a raw body holding the single input's bytes (header length 0).
 * Returns a decoder that runs once the model's inputs are known.
 */
async function readInferRequest(c: C, model: string): Promise<(inputs: readonly TensorSpec[]) => KServeInferRequest> {
  const headerLength = c.req.header(HEADER_LENGTH);
  if (headerLength === undefined) {
    const body = await readJson(c);
    const wrong = tfBodyAtKServe(body, model);
    if (wrong) throw wrong;
    const request = decodeInferRequest(body);
    return () => request;
  }
  const split = splitBody(await bodyBytes(c), headerLength);
  if (split.kind === "json") {
    const request = decodeInferRequest(split.json, split.binary);
    return () => request;
  }
  return (inputs) => ({ inputs: [decodeRawInput(split.bytes, inputs)], binaryOutput: () => false });
}

async function infer(c: C) {
  const t = await target(c);
  c.set("served", { model: t.snapshot.name, version: t.entry.version, inference: true });
  let request: KServeInferRequest | undefined;
  const asked = scheduleHeaders((name) => c.req.header(name));
  const result = await c.get("service").infer(
    t,
    async () => {
      const decode = await readInferRequest(c, t.snapshot.name);
      return (inputs) => {
        request = decode(inputs);
        // The body's parameters over the headers: a raw binary body can only use the headers.
        return { ...request, schedule: either(scheduleParameters(request.parameters), asked) };
      };
    },
    requestCacheDirectives(c),
    c.req.raw.signal,
  );
  // Monitoring and the response cache see the model's own outputs; the answer carries the classes asked for instead.
  const outputs = await classifyOutputs(c.get("service").labels, t.snapshot, result.entry.version, result.outputs, request!.classification);
  limitKServeAnswer(outputs, request!.binaryOutput, maxResponseBytes(c.env));
  recordPrediction(c, t, result);
  // The version that answered: a routed request's fallback, when its own version failed to load.
  const version = String(result.entry.version);
  const headers = { [MODEL_VERSION_HEADER]: version, ...cacheHeaders(result.cache) };
  const { json, binaries } = timedEncode(c, () =>
    encodeInferResponse({ modelName: t.snapshot.name, modelVersion: version, id: request!.id }, outputs, request!.binaryOutput),
  );
  if (binaries.length === 0) return c.json(json, 200, headers);
  const framed = frameBody(json, binaries);
  return c.body(framed.body as Uint8Array<ArrayBuffer>, 200, {
    "content-type": "application/octet-stream",
    [HEADER_LENGTH]: String(framed.headerLength),
    ...headers,
  });
}

/** Triton's statistics extension: this model's recorded requests, across isolates. */
async function stats(c: C) {
  const model = parseModelName(c.req.param("model_name")!);
  await c.get("service").snapshot(model); // 404 for a model that does not exist
  const raw = c.req.param("model_version");
  const version = raw === undefined ? undefined : parseVersion(raw);
  await flushNow(c);
  const { requests, loads, executions, cache } = await c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model)).requestStats();
  return c.json(modelStatsJson(model, requests, loads, version, executions, cache));
}

/**
 * Routes under /v2: KServe's names for the path parameters (model_name, model_version). Errors
 * go up to the app's onError, whose `{"error"}` is the protocols' shape: a sub-app's own onError
 * would wrap each of its handlers on every request. Every body passes `limit`; every route but the health probes, registered before it,
 * passes `admission` (app.ts: the key, the rate limit, then the body).
 */
export const kserveV2 = (limit: MiddlewareHandler<AppEnv>, ...admission: MiddlewareHandler<AppEnv>[]) =>
  new Hono<AppEnv>()
    .use("*", limit)
    .get("/health/live", docs.live, (c) => c.json({ live: true }))
    .get("/health/ready", docs.ready, (c) => c.json({ ready: true }))
    .use("*", ...admission)
    .get("/", docs.server, (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: ["binary_tensor_data", "classification", "statistics", "model_repository", "schedule_policy"] }))
    .post("/repository/index", docs.repositoryIndex, repositoryIndex)
    .get("/models/:model_name", docs.metadata, metadata)
    .get("/models/:model_name/versions/:model_version", docs.versionMetadata, metadata)
    .get("/models/:model_name/ready", docs.modelReady, ready)
    .get("/models/:model_name/versions/:model_version/ready", docs.versionReady, ready)
    .get("/models/:model_name/stats", docs.stats, stats)
    .get("/models/:model_name/versions/:model_version/stats", docs.versionStats, stats)
    .post("/models/:model_name/infer", docs.infer, infer)
    .post("/models/:model_name/versions/:model_version/infer", docs.versionInfer, infer)
    .all("*", noRoute);
