/**
 * @module tensor/kserve-binary: the HTTP framing of the KServe/Triton binary tensor data
 * extension. A body is a JSON header of `Inference-Header-Content-Length` bytes followed by the
 * tensors' bytes; a header length of 0 means the whole body is the one input's raw bytes. Pure.
 */
import { invalid } from "../errors";
import { fromBinary, shapeFromByteCount } from "./binary";
import type { Datatype } from "./datatype";
import type { Tensor } from "./tensor";

/** The header giving the JSON part's length in bytes. */
export const HEADER_LENGTH = "Inference-Header-Content-Length";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const encoder = new TextEncoder();

/** A request body, split. */
export type SplitBody =
  | { kind: "json"; json: unknown; binary: Uint8Array }
  /** Header length 0: the body is the raw bytes of the model's single input. */
  | { kind: "raw"; bytes: Uint8Array };

/** Splits a body by the `Inference-Header-Content-Length` header's value. */
export function splitBody(body: Uint8Array, headerLength: string): SplitBody {
  if (!/^[0-9]{1,15}$/.test(headerLength.trim())) {
    throw invalid(`${HEADER_LENGTH} must be a non-negative integer, not '${headerLength.slice(0, 40)}'`);
  }
  const length = Number(headerLength.trim());
  if (length === 0) return { kind: "raw", bytes: body };
  if (length > body.byteLength) {
    throw invalid(`${HEADER_LENGTH} is ${length} but the body has only ${body.byteLength} bytes`);
  }
  let text: string;
  try {
    text = utf8.decode(body.subarray(0, length));
  } catch {
    throw invalid(`the first ${length} bytes (${HEADER_LENGTH}) are not UTF-8 JSON`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid(`the JSON header (the first ${length} bytes, per ${HEADER_LENGTH}) is not valid JSON: ${(e as Error).message}`);
  }
  return { kind: "json", json, binary: body.subarray(length) };
}

/**
 * Frames a response: the JSON, padded with trailing spaces to a multiple of 8 bytes (still JSON,
 * its length in the header), then each binary output's bytes. A client can then view the first
 * output where it lies (a JavaScript typed array needs its offset aligned), and each one after
 * it whose predecessors are whole multiples of its element size.
 */
export function frameBody(json: object, binaries: readonly Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const encoded = encoder.encode(JSON.stringify(json));
  const headerLength = encoded.byteLength + ((8 - (encoded.byteLength % 8)) % 8);
  const body = new Uint8Array(headerLength + binaries.reduce((n, b) => n + b.byteLength, 0));
  body.set(encoded, 0);
  body.fill(0x20, encoded.byteLength, headerLength);
  let at = headerLength;
  for (const b of binaries) {
    body.set(b, at);
    at += b.byteLength;
  }
  return { body, headerLength };
}

/** Decodes a raw body (header length 0) as the single input of a model with these inputs. */
export function decodeRawInput(bytes: Uint8Array, inputs: readonly { name: string; datatype: Datatype; shape: number[] }[]): Tensor {
  if (inputs.length !== 1) {
    throw invalid(`a raw body (${HEADER_LENGTH}: 0) is for models with exactly one input; this one has ${inputs.length}: send a JSON header`);
  }
  const spec = inputs[0]!;
  return fromBinary(spec.name, spec.datatype, shapeFromByteCount(spec.name, spec.datatype, spec.shape, bytes.byteLength), bytes);
}
