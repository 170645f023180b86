/**
 * @module tensor/kserve-json: KServe V2 (Open Inference Protocol) JSON inference requests and
 * responses, to and from Tensors, including the binary tensor data extension's parameters
 * (`binary_data_size`, `binary_data`, `binary_data_output`). Spec: kserve
 * docs/predict-api/v2/rest_predict_v2.yaml; the extension: Triton's extension_binary_data.md.
 */
import { z } from "zod";
import { invalid } from "../errors";
import { DATATYPES } from "./datatype";
import { fromBinary, toBinary } from "./binary";
import { fromJsonLaidOut, fromJsonValues, toJsonValues } from "./json-values";
import { flatten, MAX_RANK, type Tensor } from "./tensor";
import { zodMessage } from "./zod-message";

const Parameters = z.record(z.string(), z.unknown()).meta({ id: "parameters" });

const RequestInput = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)).max(MAX_RANK),
  datatype: z.enum(DATATYPES),
  parameters: Parameters.optional(),
  // Elements are checked by fromJsonValues: a zod walk over a large tensor would be slow.
  // Absent when the input's bytes follow the JSON (parameters.binary_data_size).
  data: z.unknown().optional().describe("the tensor's elements, flat or nested in row-major order; absent when they follow the JSON as binary data"),
}).meta({ id: "request_input" });

const BinarySize = z.number().int().min(0);
const BinaryFlag = z.boolean();

const RequestOutput = z.object({ name: z.string().min(1), parameters: Parameters.optional() }).meta({ id: "request_output" });

/** KServe's `$inference_request` (the OpenAPI document shows it as `inference_request`). */
export const InferRequestBody = z.object({
  id: z.string().optional(),
  parameters: Parameters.optional(),
  inputs: z.array(RequestInput).min(1),
  outputs: z.array(RequestOutput).optional(),
}).meta({ id: "inference_request" });

/** A decoded `$inference_request`. */
export interface KServeInferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: Tensor[];
  /** Names of the outputs requested; undefined means all. */
  outputs?: string[];
  /** Each requested output's parameters, by name, as sent (for the response cache's key). */
  outputParameters?: Record<string, Record<string, unknown>>;
  /** Whether an output is to be returned as binary data (binary_data, else binary_data_output). */
  binaryOutput: (name: string) => boolean;
  /** Outputs asked for as their top classes (Triton's `classification` parameter): name → count. */
  classification?: ReadonlyMap<string, number>;
}

function parameter<T>(params: Record<string, unknown> | undefined, key: string, schema: z.ZodType<T>, where: string): T | undefined {
  const value = params?.[key];
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(`${where} parameter '${key}' is invalid: ${parsed.error.issues[0]?.message ?? "wrong type"}`);
  return parsed.data;
}

/** An output's `classification` parameter: how many classes to return, a positive integer. */
function classCount(params: Record<string, unknown> | undefined, output: string): number | undefined {
  const value = params?.classification;
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw invalid(`output '${output}' parameter 'classification' must be a positive integer (how many classes to return), not ${JSON.stringify(value)?.slice(0, 40)}`);
  }
  return value;
}

/**
 * Validates a parsed JSON body and decodes its tensors. `binary` holds the bytes that followed
 * the JSON (binary tensor data extension), consumed in input order by `binary_data_size`.
 */
export function decodeInferRequest(body: unknown, binary: Uint8Array = new Uint8Array(0)): KServeInferRequest {
  const parsed = InferRequestBody.safeParse(body);
  if (!parsed.success) throw invalid(zodMessage(parsed.error, "inference request"));
  const { id, parameters, inputs, outputs } = parsed.data;
  const seen = new Set<string>();
  let offset = 0;
  const tensors = inputs.map((input, i) => {
    if (seen.has(input.name)) throw invalid(`input '${input.name}' is given more than once`);
    seen.add(input.name);
    const size = parameter(input.parameters, "binary_data_size", BinarySize, `input '${input.name}'`);
    if (size === undefined) {
      if (input.data === undefined || input.data === null) throw invalid(`inference request field 'inputs[${i}].data': data is required`);
      return fromJsonLaidOut(input.name, input.datatype, input.shape, input.data) ?? fromJsonValues(input.name, input.datatype, input.shape, flatten(input.data));
    }
    if (input.data !== undefined) throw invalid(`input '${input.name}' has both data and binary_data_size; send one`);
    if (offset + size > binary.byteLength) {
      throw invalid(`input '${input.name}' declares binary_data_size ${size}, but only ${binary.byteLength - offset} bytes of binary data remain after the JSON`);
    }
    const tensor = fromBinary(input.name, input.datatype, input.shape, binary.subarray(offset, offset + size));
    offset += size;
    return tensor;
  });
  if (offset !== binary.byteLength) {
    throw invalid(`the body has ${binary.byteLength} bytes after the JSON header, but the inputs' binary_data_size add up to ${offset}`);
  }
  const requested = outputs?.map((o) => o.name);
  if (requested && new Set(requested).size !== requested.length) throw invalid("an output is requested more than once");
  const allBinary = parameter(parameters, "binary_data_output", BinaryFlag, "request") ?? false;
  const perOutput = new Map<string, boolean>();
  const classification = new Map<string, number>();
  for (const o of outputs ?? []) {
    const flag = parameter(o.parameters, "binary_data", BinaryFlag, `output '${o.name}'`);
    if (flag !== undefined) perOutput.set(o.name, flag);
    const count = classCount(o.parameters, o.name);
    if (count !== undefined) classification.set(o.name, count);
  }
  const outputParameters = Object.fromEntries((outputs ?? []).flatMap((o) => (o.parameters ? [[o.name, o.parameters]] : [])));
  return {
    id,
    parameters,
    inputs: tensors,
    outputs: requested,
    outputParameters,
    binaryOutput: (name) => perOutput.get(name) ?? allBinary,
    ...(classification.size > 0 ? { classification } : {}),
  };
}


/** What a `$inference_response` says besides its outputs. */
export interface KServeResponseHead {
  modelName: string;
  modelVersion: string;
  id?: string;
}

/**
 * Encodes a `$inference_response` with flat (row-major) data, as the spec's examples do. Outputs
 * for which `binary` is true carry `binary_data_size` instead of data; their bytes are returned
 * in `binaries`, in output order, to follow the JSON.
 */
export function encodeInferResponse(
  head: KServeResponseHead,
  outputs: readonly Tensor[],
  binary: (name: string) => boolean = () => false,
): { json: object; binaries: Uint8Array[] } {
  const binaries: Uint8Array[] = [];
  const encoded = outputs.map((t) => {
    if (!binary(t.name)) return { name: t.name, datatype: t.datatype, shape: t.shape, data: toJsonValues(t) };
    const bytes = toBinary(t);
    binaries.push(bytes);
    return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: bytes.byteLength } };
  });
  const json = {
    model_name: head.modelName,
    model_version: head.modelVersion,
    ...(head.id !== undefined ? { id: head.id } : {}),
    outputs: encoded,
  };
  return { json, binaries };
}
