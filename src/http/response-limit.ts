/**
 * @module http/response-limit: an answer's size checked before it is encoded. Each output's bytes
 * follow from its shape and datatype, so an answer over MAX_RESPONSE_BYTES is refused with a 413
 * at once, instead of taking the isolate's memory and seconds of encoding (or a RangeError) first.
 */
import { ServingError } from "../errors";
import { binaryBytes, jsonBytes } from "../tensor/encoded-size";
import type { Tensor } from "../tensor/tensor";
import { settings } from "../settings";

/** Room for a response's JSON besides the outputs' data (names, shapes, the model's name). */
const HEAD_BYTES = 1024;

/** The largest answer, from MAX_RESPONSE_BYTES. */
export const maxResponseBytes = (env: object): number => settings(env).MAX_RESPONSE_BYTES;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The size of an answer whose outputs for which `binary` is true go as binary data, the rest as JSON. */
export function answerBytes(outputs: readonly Tensor[], binary: (name: string) => boolean, base64: (t: Tensor) => boolean = () => false): number {
  return outputs.reduce((n, t) => n + HEAD_BYTES + (binary(t.name) ? binaryBytes(t) : jsonBytes(t, base64(t))), 0);
}

/**
 * Throws a 413 when a KServe V2 answer (`binary` choosing each output's form) would be larger than
 * `max`, naming the limit and, when all-binary outputs would fit, how to ask for them.
 */
export function limitKServeAnswer(outputs: readonly Tensor[], binary: (name: string) => boolean, max: number): void {
  const size = answerBytes(outputs, binary);
  if (size <= max) return;
  const asBinary = answerBytes(outputs, () => true);
  const hint =
    asBinary <= max && asBinary < size
      ? `; as binary data it is ${asBinary} bytes: ask for it with "parameters": {"binary_data_output": true} (or "binary_data": true on each output)`
      : `; even as binary data it is ${asBinary} bytes (${mib(asBinary)}): ask for fewer outputs or send a smaller input`;
  throw new ServingError("payload_too_large", `the answer would be about ${size} bytes (${mib(size)}), more than MAX_RESPONSE_BYTES (${max} bytes)${hint}; nothing was encoded`);
}

/** Throws a 413 when a TF Serving answer (JSON only) would be larger than `max`, pointing to KServe V2's binary outputs when they would fit. */
export function limitTfAnswer(model: string, outputs: readonly Tensor[], max: number): void {
  // TF Serving writes BYTES outputs named *_bytes as {"b64": ...} (tensor/tf-json).
  const size = answerBytes(outputs, () => false, (t) => t.datatype === "BYTES" && t.name.endsWith("_bytes"));
  if (size <= max) return;
  const asBinary = answerBytes(outputs, () => true);
  const hint =
    asBinary <= max
      ? `; KServe V2 carries it as binary data in ${asBinary} bytes: POST /v2/models/${model}/infer with "parameters": {"binary_data_output": true}`
      : `; even as binary data it would be ${asBinary} bytes (${mib(asBinary)}): send a smaller input`;
  throw new ServingError("payload_too_large", `the answer would be about ${size} bytes (${mib(size)}) of JSON, more than MAX_RESPONSE_BYTES (${max} bytes)${hint}; nothing was encoded`);
}

/**
 * Throws a 413 when a TF Serving `:classify` answer would be larger than `max`: each example
 * repeats every class's label beside its score, so long labels on many classes add up.
 */
export function limitClassifyAnswer(scores: Tensor, labels: readonly string[] | undefined, max: number): void {
  const rows = scores.shape[0] ?? 0;
  const classes = scores.shape[1] ?? 0;
  // Per row: every label as JSON (quoted, escaped, UTF-8), and each pair's brackets and commas.
  const perRow = new TextEncoder().encode(JSON.stringify(labels ?? new Array<string>(classes).fill(""))).byteLength + 4 * classes;
  const size = HEAD_BYTES + jsonBytes(scores) + rows * perRow;
  if (size <= max) return;
  throw new ServingError("payload_too_large", `the answer would be about ${size} bytes (${mib(size)}) of JSON, more than MAX_RESPONSE_BYTES (${max} bytes): send fewer examples; nothing was encoded`);
}
