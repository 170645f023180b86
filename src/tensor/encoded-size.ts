/**
 * @module tensor/encoded-size: how many bytes a tensor takes on the wire, known from its shape,
 * datatype and (for BYTES) its strings' lengths, before anything is encoded or copied. Pure.
 */
import { datatypeInfo, type Datatype } from "./datatype";
import { elementCount, type Tensor } from "./tensor";

/**
 * The most one element takes as JSON text with its separator: an unsigned 64-bit integer's 20
 * digits; a float widened to a double, up to 17 significant digits behind "-0.00000". Floats
 * count at the most because the encoder's array of boxed numbers takes about as much memory as
 * the text, whatever the values.
 */
const JSON_ELEMENT_BYTES: Record<Exclude<Datatype, "BYTES">, number> = {
  BOOL: 6, UINT8: 4, INT8: 5, UINT16: 6, INT16: 7, UINT32: 11, INT32: 12, UINT64: 21, INT64: 21,
  FP16: 26, FP32: 26, FP64: 26,
};

const strings = (t: Tensor): string[] => (Array.isArray(t.data) ? t.data : []);

/** The tensor's bytes in the binary tensor data extension (BYTES: a 4-byte length and its text, UTF-8 at 3 bytes a UTF-16 unit at most). */
export function binaryBytes(t: Tensor): number {
  if (t.datatype !== "BYTES") return elementCount(t.shape) * datatypeInfo(t.datatype).size;
  return strings(t).reduce((n, s) => n + 4 + 3 * s.length, 0);
}

/**
 * An estimate, from above, of the tensor's data as JSON text: its elements at their widest, strings
 * quoted at 6 bytes a UTF-16 unit (a `\u0001` escape) or, `base64`, as TF Serving's `{"b64": ...}`
 * objects; the nesting's brackets.
 */
export function jsonBytes(t: Tensor, base64 = false): number {
  const n = elementCount(t.shape);
  // Every list of the nesting (TF Serving nests; KServe's flat list is one): its brackets and comma.
  let lists = 0;
  let atDepth = 1;
  for (const d of t.shape) {
    lists += atDepth;
    atDepth *= d;
  }
  const brackets = 3 * lists;
  if (t.datatype !== "BYTES") return n * JSON_ELEMENT_BYTES[t.datatype] + brackets;
  const text = strings(t).reduce((sum, s) => sum + (base64 ? 4 * s.length + 11 : 6 * s.length + 3), 0);
  return text + brackets;
}
