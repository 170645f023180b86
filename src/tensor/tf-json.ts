/**
 * @module tensor/tf-json: TF Serving REST predict requests and responses (row "instances" and
 * columnar "inputs" formats), to and from Tensors. Spec: tensorflow/serving g3doc/api_rest.md.
 */
import { invalid } from "../errors";
import { own } from "../own";
import { decodeBase64Text, encodeBase64Text } from "./base64";
import type { Datatype } from "./datatype";
import { fromJsonLaidOut, fromJsonValues, toJsonValues } from "./json-values";
import { flatten, formatShape, inferShape, leadingShape, MAX_RANK, nest, nestedTooDeep, type Tensor } from "./tensor";

/** What the codec needs to know of a model input: TF requests carry no datatypes. */
export interface InputSpec {
  name: string;
  datatype: Datatype;
}

/** A decoded predict request. */
export interface TfPredictRequest {
  format: "row" | "columnar";
  inputs: Tensor[];
  /** Number of instances, for the row format. */
  batchSize?: number;
}

/** A JSON object, not an array or null. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isB64 = (v: unknown): v is { b64: string } =>
  isPlainObject(v) && Object.keys(v).length === 1 && typeof v.b64 === "string";

/** Replaces every `{"b64": ...}` in a nested list by its decoded text; lists nested past MAX_RANK are refused. */
function decodeB64(value: unknown, what: string, depth = 0): unknown {
  if (isB64(value)) return decodeBase64Text(value.b64, what);
  if (!Array.isArray(value)) return value;
  if (depth === MAX_RANK) throw nestedTooDeep(what);
  return value.map((v) => decodeB64(v, what, depth + 1));
}

/**
 * A tensor read in one pass from lists that are already rectangular (fromJsonLaidOut), or
 * undefined: then the general way (b64 values decoded, the shape inferred and checked, the lists
 * flattened) reads it or words what is wrong. BYTES always goes that way, for its b64 values.
 */
function readLaidOut(name: string, datatype: Datatype, value: unknown): Tensor | undefined {
  if (datatype === "BYTES") return undefined;
  const shape = leadingShape(value);
  return shape && fromJsonLaidOut(name, datatype, shape, value);
}

/** Validates a parsed `:predict` body against the model's inputs and decodes its tensors. */
export function decodePredictRequest(body: unknown, specs: readonly InputSpec[]): TfPredictRequest {
  if (!isPlainObject(body)) throw invalid("request body must be a JSON object");
  const { signature_name: signature, instances, inputs } = body;
  if (signature !== undefined && signature !== "serving_default") {
    throw invalid(`signature_name '${String(signature)}' not found; ONNX models have one signature, 'serving_default'`);
  }
  if ((instances === undefined) === (inputs === undefined)) {
    throw invalid('request must have exactly one of "instances" (row format) or "inputs" (columnar format)');
  }
  return instances !== undefined ? decodeRows(instances, specs) : decodeColumns(inputs, specs);
}

function specFor(name: string, specs: readonly InputSpec[]): InputSpec {
  const spec = specs.find((s) => s.name === name);
  if (!spec) throw invalid(`unknown input '${name}'; the model's inputs are ${specs.map((s) => `'${s.name}'`).join(", ")}`);
  return spec;
}

function soleInput(specs: readonly InputSpec[], format: string): InputSpec {
  if (specs.length !== 1) {
    throw invalid(`the model has ${specs.length} inputs: name them (${specs.map((s) => s.name).join(", ")}) in ${format}`);
  }
  return specs[0]!;
}

function decodeRows(instances: unknown, specs: readonly InputSpec[]): TfPredictRequest {
  if (!Array.isArray(instances) || instances.length === 0) throw invalid('"instances" must be a non-empty list');
  const named = instances.every((i) => isPlainObject(i) && !isB64(i));
  const names = named ? [...new Set(instances.flatMap((i) => Object.keys(i as object)))] : [soleInput(specs, '"instances"').name];
  const tensors = names.map((name) => {
    const spec = specFor(name, specs);
    const laidOut = readLaidOut(name, spec.datatype, named ? instances.map((inst) => own(inst as Record<string, unknown>, name)) : instances);
    if (laidOut) return laidOut;
    const rows = instances.map((inst, i) => {
      const v = named ? own(inst as Record<string, unknown>, name) : inst;
      if (v === undefined) throw invalid(`instances[${i}] has no value for input '${name}'`);
      return decodeB64(v, `input '${name}'`);
    });
    const rowShape = inferShape(rows[0], `instances[0] input '${name}'`);
    if (rowShape.length === MAX_RANK) throw invalid(`input '${name}': instances nest ${MAX_RANK} levels deep, which with the batch makes more than ${MAX_RANK} dimensions`);
    rows.forEach((row, i) => {
      const shape = inferShape(row, `instances[${i}] input '${name}'`);
      if (formatShape(shape) !== formatShape(rowShape)) {
        throw invalid(`input '${name}': instances[${i}] has shape ${formatShape(shape)} but instances[0] has ${formatShape(rowShape)}`);
      }
    });
    return fromJsonValues(name, spec.datatype, [rows.length, ...rowShape], flatten(rows));
  });
  return { format: "row", inputs: tensors, batchSize: instances.length };
}

function decodeColumns(inputs: unknown, specs: readonly InputSpec[]): TfPredictRequest {
  const named = isPlainObject(inputs) && !isB64(inputs);
  const entries: [string, unknown][] = named
    ? Object.entries(inputs as Record<string, unknown>)
    : [[soleInput(specs, '"inputs"').name, inputs]];
  const tensors = entries.map(([name, raw]) => {
    const spec = specFor(name, specs);
    const laidOut = readLaidOut(name, spec.datatype, raw);
    if (laidOut) return laidOut;
    const value = decodeB64(raw, `input '${name}'`);
    const shape = inferShape(value, `input '${name}'`);
    return fromJsonValues(name, spec.datatype, shape, flatten(value));
  });
  return { format: "columnar", inputs: tensors };
}

/** JSON values of an output; BYTES outputs whose names end in `_bytes` go as `{"b64": ...}`, as TF Serving does. */
function outputValues(t: Tensor): unknown[] {
  const values = toJsonValues(t);
  if (t.datatype === "BYTES" && t.name.endsWith("_bytes")) return values.map((v) => ({ b64: encodeBase64Text(v as string) }));
  return values;
}

/** Encodes the response: `{"predictions": [...]}` for the row format, `{"outputs": ...}` for columnar. */
export function encodePredictResponse(request: TfPredictRequest, outputs: readonly Tensor[]): object {
  if (request.format === "columnar") {
    const nested = outputs.map((t) => [t.name, nest(outputValues(t), t.shape)] as const);
    return { outputs: nested.length === 1 ? nested[0]![1] : Object.fromEntries(nested) };
  }
  const batch = request.batchSize!;
  const rows = outputs.map((t) => {
    if (t.shape[0] !== batch) {
      throw invalid(
        `output '${t.name}' has shape ${formatShape(t.shape)}, whose first dimension is not the ${batch} instances; ` +
          'use the columnar "inputs" format for this model',
      );
    }
    return [t.name, nest(outputValues(t), t.shape) as unknown[]] as const;
  });
  if (rows.length === 1) return { predictions: rows[0]![1] };
  return { predictions: Array.from({ length: batch }, (_, i) => Object.fromEntries(rows.map(([n, r]) => [n, r[i]]))) };
}
