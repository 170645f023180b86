/**
 * @module tensor/kserve-json: KServe V2 (Open Inference Protocol) JSON inference requests and
 * responses, to and from Tensors. Spec: kserve docs/predict-api/v2/rest_predict_v2.yaml.
 */
import { z } from "zod";
import { invalid } from "../errors";
import { DATATYPES } from "./datatype";
import { flatten, fromJsonValues, toJsonValues, type Tensor } from "./tensor";
import { zodMessage } from "./zod-message";

const Parameters = z.record(z.string(), z.unknown());

const RequestInput = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)),
  datatype: z.enum(DATATYPES),
  parameters: Parameters.optional(),
  // Elements are checked by fromJsonValues: a zod walk over a large tensor would be slow.
  data: z.custom<unknown>((v) => v !== undefined && v !== null, "data is required"),
});

const RequestOutput = z.object({ name: z.string().min(1), parameters: Parameters.optional() });

const InferRequestBody = z.object({
  id: z.string().optional(),
  parameters: Parameters.optional(),
  inputs: z.array(RequestInput).min(1),
  outputs: z.array(RequestOutput).optional(),
});

/** A decoded `$inference_request`. */
export interface KServeInferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: Tensor[];
  /** Names of the outputs requested; undefined means all. */
  outputs?: string[];
}

/** Validates a parsed JSON body and decodes its tensors. */
export function decodeInferRequest(body: unknown): KServeInferRequest {
  const parsed = InferRequestBody.safeParse(body);
  if (!parsed.success) throw invalid(zodMessage(parsed.error, "inference request"));
  const { id, parameters, inputs, outputs } = parsed.data;
  const seen = new Set<string>();
  const tensors = inputs.map((input) => {
    if (seen.has(input.name)) throw invalid(`input '${input.name}' is given more than once`);
    seen.add(input.name);
    return fromJsonValues(input.name, input.datatype, input.shape, flatten(input.data));
  });
  const requested = outputs?.map((o) => o.name);
  if (requested && new Set(requested).size !== requested.length) throw invalid("an output is requested more than once");
  return { id, parameters, inputs: tensors, outputs: requested };
}

/** What a `$inference_response` says besides its outputs. */
export interface KServeResponseHead {
  modelName: string;
  modelVersion: string;
  id?: string;
}

/** Encodes a `$inference_response` with flat (row-major) data, as the spec's examples do. */
export function encodeInferResponse(head: KServeResponseHead, outputs: readonly Tensor[]): object {
  return {
    model_name: head.modelName,
    model_version: head.modelVersion,
    ...(head.id !== undefined ? { id: head.id } : {}),
    outputs: outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: toJsonValues(t) })),
  };
}
