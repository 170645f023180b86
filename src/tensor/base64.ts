/** @module tensor/base64: TF Serving's `{"b64": "..."}` values, as UTF-8 text (ORT string tensors hold text). */
import { invalid } from "../errors";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const encoder = new TextEncoder();

/** Decodes base64 whose bytes must be UTF-8 text; `what` names the value in the error. */
export function decodeBase64Text(b64: string, what: string): string {
  let binary: string;
  try {
    binary = atob(b64);
  } catch {
    throw invalid(`${what}: "b64" is not valid base64`);
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalid(`${what}: decoded bytes are not UTF-8 text, which ONNX Runtime string tensors require`);
  }
}

/** Encodes text as base64 of its UTF-8 bytes. */
export function encodeBase64Text(text: string): string {
  const bytes = encoder.encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
