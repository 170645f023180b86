/**
 * @module http/kserve-v2: the KServe V2 / Open Inference Protocol REST frontend.
 * Spec: kserve docs/predict-api/v2/rest_predict_v2.yaml. Errors are `{"error": "..."}`.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { decodeRawInput, frameBody, HEADER_LENGTH, splitBody } from "../tensor/kserve-binary";
import { decodeInferRequest, encodeInferResponse, type KServeInferRequest } from "../tensor/kserve-json";
import type { TensorSpec } from "../serving/loader";
import { bodyBytes, readJson } from "./body";
import { parseModelName, parseVersion } from "../serving/names";
import { flushNow } from "../monitoring/request-log";
import { modelStatsJson } from "../monitoring/stats-view";
import { recordPrediction, timedEncode } from "./prediction";
import { limitKServeAnswer, maxResponseBytes } from "./response-limit";
import { callerOf, LABEL_HEADER, selectorFrom } from "./selector";
import { either, scheduleHeaders, scheduleParameters } from "../serving/schedule";
import { SERVER_NAME, SERVER_VERSION, MODEL_VERSION_HEADER } from "./server-info";

/** The platform name KServe gives ONNX Runtime models. */
const PLATFORM = "onnxruntime_onnx";

type C = Context<AppEnv>;

async function target(c: C) {
  const model = parseModelName(c.req.param("model")!);
  const label = c.req.header(LABEL_HEADER);
  const t = await c.get("service").resolve(model, selectorFrom({ version: c.req.param("version"), label, caller: callerOf(c) }));
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
  (await c.get("service").lease(t)).release();
  return c.json({ name: t.snapshot.name, ready: true });
}

/**
 * Reads an inference request: JSON, or (with Inference-Header-Content-Length) a JSON header
 * followed by binary tensors, or a raw body holding the single input's bytes (header length 0).
 * Returns a decoder that runs once the model's inputs are known.
 */
async function readInferRequest(c: C): Promise<(inputs: readonly TensorSpec[]) => KServeInferRequest> {
  const headerLength = c.req.header(HEADER_LENGTH);
  if (headerLength === undefined) {
    const request = decodeInferRequest(await readJson(c));
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
      const decode = await readInferRequest(c);
      return (inputs) => {
        request = decode(inputs);
        // The body's parameters over the headers: a raw binary body can only use the headers.
        return { ...request, schedule: either(scheduleParameters(request.parameters), asked) };
      };
    },
    c.req.raw.signal,
  );
  limitKServeAnswer(result.outputs, request!.binaryOutput, maxResponseBytes(c.env));
  recordPrediction(c, t, result);
  const version = String(t.entry.version);
  const { json, binaries } = timedEncode(c, () =>
    encodeInferResponse({ modelName: t.snapshot.name, modelVersion: version, id: request!.id }, result.outputs, request!.binaryOutput),
  );
  if (binaries.length === 0) return c.json(json, 200, { [MODEL_VERSION_HEADER]: version });
  const framed = frameBody(json, binaries);
  return c.body(framed.body as Uint8Array<ArrayBuffer>, 200, {
    "content-type": "application/octet-stream",
    [HEADER_LENGTH]: String(framed.headerLength),
    [MODEL_VERSION_HEADER]: version,
  });
}

/** Triton's statistics extension: this model's recorded requests, across isolates. */
async function stats(c: C) {
  const model = parseModelName(c.req.param("model")!);
  await c.get("service").snapshot(model); // 404 for a model that does not exist
  const raw = c.req.param("version");
  const version = raw === undefined ? undefined : parseVersion(raw);
  await flushNow(c);
  const { requests, loads, executions } = await c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model)).requestStats();
  return c.json(modelStatsJson(model, requests, loads, version, executions));
}

/** Routes under /v2. */
export const kserveV2 = new Hono<AppEnv>()
  .get("/health/live", (c) => c.json({ live: true }))
  .get("/health/ready", (c) => c.json({ ready: true }))
  .get("/", (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: ["binary_tensor_data", "statistics", "schedule_policy"] }))
  .get("/models/:model", metadata)
  .get("/models/:model/versions/:version", metadata)
  .get("/models/:model/ready", ready)
  .get("/models/:model/versions/:version/ready", ready)
  .get("/models/:model/stats", stats)
  .get("/models/:model/versions/:version/stats", stats)
  .post("/models/:model/infer", infer)
  .post("/models/:model/versions/:version/infer", infer);
