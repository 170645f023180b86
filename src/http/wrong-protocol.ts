/**
 * @module http/wrong-protocol: a clear 400 for a body meant for the other protocol (a TF Serving
 * body sent to KServe V2's infer, a KServe V2 body sent to TF Serving's :predict), naming the route
 * that takes it.
 */
import { invalid, type ServingError } from "../errors";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** For a KServe V2 infer route: a TF Serving body (`instances`, or `inputs` as an object). */
export function tfBodyAtKServe(body: unknown, model: string): ServingError | null {
  if (!isObject(body)) return null;
  const tfShaped = body.instances !== undefined || body.signature_name !== undefined || (body.inputs !== undefined && !Array.isArray(body.inputs));
  if (!tfShaped) return null;
  return invalid(
    `this is a TF Serving body ("instances", or "inputs" as an object); send it to POST /v1/models/${model}:predict, ` +
      `or send KServe V2's {"inputs": [{"name", "shape", "datatype", "data"}]} here`,
  );
}

/** For TF Serving's :predict: a KServe V2 body (`inputs` as a list of tensors with datatype and shape). */
export function kserveBodyAtTf(body: unknown, model: string): ServingError | null {
  if (!isObject(body) || !Array.isArray(body.inputs) || body.inputs.length === 0) return null;
  if (!body.inputs.every((i) => isObject(i) && "datatype" in i && "shape" in i)) return null;
  return invalid(
    `this is a KServe V2 body ("inputs" as a list of tensors with datatype and shape); send it to POST /v2/models/${model}/infer, ` +
      `or send TF Serving's {"instances": [...]} or {"inputs": {...}} here`,
  );
}
