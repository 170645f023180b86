/**
 * @module tensor/tf-examples: TF Serving REST `:classify` requests and responses for a tabular
 * model: `{"examples": [{feature: value}], "context": {...}}` in, as one [examples, features]
 * tensor, and `{"results": [[[label, score], ...], ...]}` out. Spec: tensorflow/serving
 * g3doc/api_rest.md, "Classify and Regress API".
 */
import { invalid } from "../errors";
import { own } from "../own";
import { fromJsonValues, toJsonValues } from "./json-values";
import { isPlainObject, type InputSpec } from "./tf-json";
import type { Tensor } from "./tensor";

/** One feature's value: a number, or a list of one (a tf.Example feature is a list). */
function featureValue(value: unknown, feature: string, where: string): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length !== 1) throw invalid(`${where} feature '${feature}' has ${value.length} values; each feature of this model is one value`);
  return value[0];
}

/** Refuses the keys of `record` that are not features. */
function checkKnown(record: Record<string, unknown>, known: ReadonlySet<string>, features: readonly string[], where: string): void {
  const unknown = Object.keys(record).find((k) => !known.has(k));
  if (unknown !== undefined) throw invalid(`${where} has feature '${unknown.slice(0, 64)}', which the model's config does not name; its features are ${features.join(", ")}`);
}

/**
 * Validates a parsed `:classify` body and decodes its examples, each feature in the order
 * `features` names them, into one tensor for the model's input.
 */
export function decodeClassifyRequest(body: unknown, features: readonly string[], input: InputSpec): Tensor {
  if (!isPlainObject(body)) throw invalid("request body must be a JSON object");
  const { signature_name: signature, examples, context } = body;
  if (signature !== undefined && signature !== "serving_default") {
    throw invalid(`signature_name '${String(signature).slice(0, 64)}' not found; ONNX models have one signature, 'serving_default'`);
  }
  if (!Array.isArray(examples) || examples.length === 0) throw invalid('"examples" must be a non-empty list of objects, one per example');
  if (context !== undefined && !isPlainObject(context)) throw invalid('"context" must be an object of features shared by every example');
  const known = new Set(features);
  if (context) checkKnown(context, known, features, '"context"');
  const values: unknown[] = [];
  examples.forEach((example, i) => {
    const where = `examples[${i}]`;
    if (!isPlainObject(example)) throw invalid(`${where} must be an object of features`);
    checkKnown(example, known, features, where);
    for (const feature of features) {
      const mine = own(example, feature);
      const shared = own(context, feature);
      if (mine !== undefined && shared !== undefined) throw invalid(`feature '${feature}' is in both "context" and ${where}; a context feature may not appear in examples`);
      if (mine === undefined && shared === undefined) throw invalid(`${where} has no value for feature '${feature}'`);
      values.push(featureValue(mine ?? shared, feature, mine !== undefined ? where : '"context"'));
    }
  });
  return fromJsonValues(input.name, input.datatype, [examples.length, features.length], values);
}

/** Encodes a `:classify` answer: for each example, every class's [label, score] in class order ("" where there is no label). */
export function encodeClassifyResponse(scores: Tensor, labels?: readonly string[]): { results: [string, unknown][][] } {
  const [rows = 0, classes = 0] = scores.shape;
  const values = toJsonValues(scores);
  const results = Array.from({ length: rows }, (_, r) => Array.from({ length: classes }, (_, i): [string, unknown] => [labels?.[i] ?? "", values[r * classes + i]]));
  return { results };
}
