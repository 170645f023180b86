/**
 * @module http/tf-serving: the TF Serving REST v1 frontend (model status, metadata, predict).
 * Spec: tensorflow/serving g3doc/api_rest.md. Errors are `{"error": "..."}`.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { notFound, ServingError } from "../errors";
import { parseModelName } from "../serving/names";
import type { TensorSpec } from "../serving/loader";
import type { Target } from "../serving/service";
import { scheduleHeaders } from "../serving/schedule";
import { datatypeInfo } from "../tensor/datatype";
import { decodePredictRequest, encodePredictResponse, type TfPredictRequest } from "../tensor/tf-json";
import { readJson } from "./body";
import { requestCacheDirectives, cacheHeaders } from "./cache-status";
import { callerOf, selectorFrom } from "./selector";
import { recordPrediction, timedEncode } from "./prediction";
import { limitClassifyAnswer, limitTfAnswer, maxResponseBytes } from "./response-limit";
import { MODEL_VERSION_HEADER } from "./server-info";
import { decodeClassifyRequest, encodeClassifyResponse } from "../tensor/tf-examples";
import { scoresOutput } from "../serving/classification-config";
import { checkedLabels } from "../serving/classification";
import { kserveBodyAtTf } from "./wrong-protocol";
import { noRoute } from "./error-response";

type C = Context<AppEnv>;

/** `/v1/models/{m}[/versions/{v}|/labels/{l}][/metadata|:{method}]`, matched on the decoded path. */
const PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+)|\/labels\/([^/:]+))?(?:(\/metadata)|:([A-Za-z]+))?\/?$/;

interface Route {
  model: string;
  version?: string;
  label?: string;
  action: "status" | "metadata" | string;
}

function route(c: C): Route {
  let path: string;
  try {
    path = decodeURIComponent(new URL(c.req.url).pathname);
  } catch {
    throw notFound("malformed URL path");
  }
  const m = PATH.exec(path);
  if (!m) throw notFound(`no route for ${c.req.method} ${path}`);
  return { model: m[1]!, version: m[2], label: m[3], action: m[4] ? "metadata" : (m[5] ?? "status") };
}

async function resolve(c: C, r: Route): Promise<Target> {
  const t = await c.get("service").resolve(parseModelName(r.model), selectorFrom({ ...r, caller: callerOf(c) }));
  c.set("served", { model: t.snapshot.name, version: t.entry.version });
  return t;
}

function versionStatus(version: number, error?: string) {
  return {
    version: String(version),
    state: error === undefined ? "AVAILABLE" : "END",
    status: { error_code: error === undefined ? "OK" : "UNKNOWN", error_message: error ?? "" },
  };
}

/** Model status. With a version or label, that version is loaded so its state is real. */
async function status(c: C, r: Route) {
  if (r.version === undefined && r.label === undefined) {
    const snapshot = await c.get("service").snapshot(parseModelName(r.model));
    const statuses = snapshot.versions.map((entry) => {
      const state = c.get("service").loadState({ snapshot, entry, routed: false });
      return versionStatus(entry.version, state?.state === "failed" ? state.error : undefined);
    });
    return c.json({ model_version_status: statuses.reverse() });
  }
  const t = await resolve(c, r);
  try {
    const { lease, entry } = await c.get("service").lease(t);
    lease.release();
    return c.json({ model_version_status: [versionStatus(entry.version)] });
  } catch (e) {
    if (!(e instanceof ServingError) || (e.code !== "unavailable" && e.code !== "resource_exhausted")) throw e;
    return c.json({ model_version_status: [versionStatus(t.entry.version, e.message)] });
  }
}

function tensorInfo(spec: TensorSpec) {
  return {
    dtype: datatypeInfo(spec.datatype).tf,
    tensor_shape: { dim: spec.shape.map((d) => ({ size: String(d), name: "" })), unknown_rank: false },
    name: spec.name,
  };
}

async function metadata(c: C, r: Route) {
  const t = await resolve(c, r);
  const { inputs, outputs, entry } = await c.get("service").signature(t);
  const map = (specs: readonly TensorSpec[]) => Object.fromEntries(specs.map((s) => [s.name, tensorInfo(s)]));
  return c.json({
    model_spec: { name: t.snapshot.name, signature_name: "", version: String(entry.version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: { inputs: map(inputs), outputs: map(outputs), method_name: "tensorflow/serving/predict" },
        },
      },
    },
  });
}

async function predict(c: C, r: Route) {
  const t = await resolve(c, r);
  c.set("served", { model: t.snapshot.name, version: t.entry.version, inference: true });
  let request: TfPredictRequest | undefined;
  // TF Serving's REST API has no deadline of its own: the headers carry one (docs/scheduling.md).
  const schedule = scheduleHeaders((name) => c.req.header(name));
  const result = await c.get("service").infer(
    t,
    async () => {
      const body = await readJson(c);
      const wrong = kserveBodyAtTf(body, t.snapshot.name);
      if (wrong) throw wrong;
      return (specs) => ({ ...(request = decodePredictRequest(body, specs)), schedule });
    },
    requestCacheDirectives(c),
    c.req.raw.signal,
  );
  limitTfAnswer(t.snapshot.name, result.outputs, maxResponseBytes(c.env));
  recordPrediction(c, t, result);
  const response = timedEncode(c, () => encodePredictResponse(request!, result.outputs));
  return c.json(response, 200, { [MODEL_VERSION_HEADER]: String(result.entry.version), ...cacheHeaders(result.cache) });
}

/**
 * `:classify` for a tabular model whose config names the features of its one input: every class's
 * label and score from the scores output, per example.
 */
async function classify(c: C, r: Route) {
  const resolved = await resolve(c, r);
  const classification = resolved.snapshot.config.classification;
  if (!classification?.features) {
    throw new ServingError(
      "not_implemented",
      `:classify needs the model's config to name the features of its one input (classification.features, docs/classification.md); model '${resolved.snapshot.name}' names none: use :predict`,
    );
  }
  const { features } = classification;
  const signature = await c.get("service").signature(resolved);
  // On from the version whose signature it is: a routed target's fallback, when its own failed to load.
  const t = { ...resolved, entry: signature.entry };
  const scores = scoresOutput(classification, signature.outputs);
  if (typeof scores !== "string") throw new ServingError("unavailable", `model '${t.snapshot.name}' cannot classify: ${scores.error}`);
  c.set("served", { model: t.snapshot.name, version: t.entry.version, inference: true });
  const schedule = scheduleHeaders((name) => c.req.header(name));
  const result = await c.get("service").infer(
    t,
    async () => {
      const body = await readJson(c);
      return (specs, entry) => {
        if (specs.length !== 1) throw new ServingError("unavailable", `model '${t.snapshot.name}' cannot classify examples: version ${entry.version} has ${specs.length} inputs, not one`);
        return { inputs: [decodeClassifyRequest(body, features, specs[0]!)], outputs: [scores], schedule };
      };
    },
    requestCacheDirectives(c),
    c.req.raw.signal,
  );
  recordPrediction(c, t, result);
  const output = result.outputs[0]!;
  if (output.shape.length !== 2) throw new ServingError("unavailable", `model '${t.snapshot.name}': output '${output.name}' is not [examples, classes]; :classify cannot answer with it`);
  const labels = await checkedLabels(c.get("service").labels, t.snapshot, result.entry.version, output);
  limitClassifyAnswer(output, labels, maxResponseBytes(c.env));
  const response = timedEncode(c, () => encodeClassifyResponse(output, labels));
  return c.json(response, 200, { [MODEL_VERSION_HEADER]: String(result.entry.version), ...cacheHeaders(result.cache) });
}

async function models(c: C) {
  const r = route(c);
  const method = c.req.method;
  if (r.action === "status" && method === "GET") return status(c, r);
  if (r.action === "metadata" && method === "GET") return metadata(c, r);
  if (r.action === "predict" && method === "POST") return predict(c, r);
  if (r.action === "classify" && method === "POST") return classify(c, r);
  if (r.action === "regress" && method === "POST") {
    throw new ServingError("not_implemented", `:${r.action} needs tf.Example inputs, which ONNX models do not take; use :predict`);
  }
  throw notFound(`no route for ${method} ${new URL(c.req.url).pathname}`);
}

/**
 * Routes under /v1, behind `admission` (app.ts: the body limit, then the key and rate limit).
 * Errors go up to the app's onError, whose `{"error"}` is the protocols' shape.
 */
export const tfServing = (...admission: MiddlewareHandler<AppEnv>[]) =>
  new Hono<AppEnv>().use("*", ...admission).all("/models/*", models).all("*", noRoute);
