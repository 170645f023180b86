/**
 * @module http/kserve-v2: the KServe V2 / Open Inference Protocol REST frontend.
 * Spec: kserve docs/predict-api/v2/rest_predict_v2.yaml. Errors are `{"error": "..."}`.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { decodeInferRequest, encodeInferResponse } from "../tensor/kserve-json";
import { readJson } from "./body";
import { parseModelName } from "../serving/names";
import { mirrorToShadow } from "./shadow";
import { callerOf, LABEL_HEADER, selectorFrom } from "./selector";
import { SERVER_NAME, SERVER_VERSION, MODEL_VERSION_HEADER } from "./server-info";

/** The platform name KServe gives ONNX Runtime models. */
const PLATFORM = "onnxruntime_onnx";

type C = Context<AppEnv>;

async function target(c: C) {
  const model = parseModelName(c.req.param("model")!);
  const label = c.req.header(LABEL_HEADER);
  return c.var.service.resolve(model, selectorFrom({ version: c.req.param("version"), label, caller: callerOf(c) }));
}

async function metadata(c: C) {
  const t = await target(c);
  const { inputs, outputs } = await c.var.service.signature(t);
  return c.json({
    name: t.snapshot.name,
    // Every published version, from the newest listing (routing may still be on an older one).
    versions: (await c.var.service.snapshot(t.snapshot.name)).versions.map((v) => String(v.version)),
    platform: PLATFORM,
    inputs,
    outputs,
  });
}

async function ready(c: C) {
  const t = await target(c);
  (await c.var.service.lease(t)).release();
  return c.json({ name: t.snapshot.name, ready: true });
}

async function infer(c: C) {
  const t = await target(c);
  const request = decodeInferRequest(await readJson(c));
  const result = await c.var.service.infer(t, () => request);
  const version = String(t.entry.version);
  const body = encodeInferResponse({ modelName: t.snapshot.name, modelVersion: version, id: request.id }, result.outputs);
  mirrorToShadow(c, t, result);
  return c.json(body, 200, { [MODEL_VERSION_HEADER]: version });
}

/** Routes under /v2. */
export const kserveV2 = new Hono<AppEnv>()
  .get("/health/live", (c) => c.json({ live: true }))
  .get("/health/ready", (c) => c.json({ ready: true }))
  .get("/", (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }))
  .get("/models/:model", metadata)
  .get("/models/:model/versions/:version", metadata)
  .get("/models/:model/ready", ready)
  .get("/models/:model/versions/:version/ready", ready)
  .post("/models/:model/infer", infer)
  .post("/models/:model/versions/:version/infer", infer);
