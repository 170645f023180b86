/**
 * @module tensor/binary: a tensor's elements as raw bytes, the layout of the KServe/Triton binary
 * tensor data extension: little-endian, row-major, no padding; BOOL one byte (0 or 1), FP16 the
 * IEEE half bits, BYTES each element as a 4-byte little-endian length then its bytes. Pure.
 */
import { invalid } from "../errors";
import { datatypeInfo, type Datatype, type TensorData } from "./datatype";
import { elementCount, formatShape, type Tensor } from "./tensor";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const encoder = new TextEncoder();

/** The platform's byte order must be the wire's (it is on every Workers host; checked once). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Builds a tensor from its binary form, checking the byte count against the shape and datatype. */
export function fromBinary(name: string, datatype: Datatype, shape: number[], bytes: Uint8Array): Tensor {
  if (!LITTLE_ENDIAN) throw new Error("binary tensors need a little-endian platform");
  const count = elementCount(shape);
  if (datatype === "BYTES") return { name, datatype, shape, data: bytesElements(name, count, bytes) };
  const size = datatypeInfo(datatype).size;
  if (bytes.byteLength !== count * size) {
    throw invalid(
      `input '${name}': ${bytes.byteLength} bytes of binary data, but shape ${formatShape(shape)} of ${datatype} needs ${count * size} (${count} × ${size})`,
    );
  }
  // A view of the bytes where they are aligned for the datatype (no copy: onnxruntime copies them
  // into its heap anyway); else a copy, which starts at offset 0. The view shares the body's
  // buffer, which nothing writes to.
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset } = aligned;
  let data: TensorData;
  switch (datatype) {
    case "BOOL": {
      const b = new Uint8Array(buffer, byteOffset, count);
      for (let i = 0; i < b.length; i++) if (b[i]! > 1) throw invalid(`input '${name}': BOOL element ${i} is byte ${b[i]}; use 0 or 1`);
      data = b;
      break;
    }
    case "UINT8": data = new Uint8Array(buffer, byteOffset, count); break;
    case "INT8": data = new Int8Array(buffer, byteOffset, count); break;
    case "UINT16": data = new Uint16Array(buffer, byteOffset, count); break;
    case "INT16": data = new Int16Array(buffer, byteOffset, count); break;
    case "FP16": data = new Uint16Array(buffer, byteOffset, count); break;
    case "UINT32": data = new Uint32Array(buffer, byteOffset, count); break;
    case "INT32": data = new Int32Array(buffer, byteOffset, count); break;
    case "FP32": data = new Float32Array(buffer, byteOffset, count); break;
    case "UINT64": data = new BigUint64Array(buffer, byteOffset, count); break;
    case "INT64": data = new BigInt64Array(buffer, byteOffset, count); break;
    case "FP64": data = new Float64Array(buffer, byteOffset, count); break;
  }
  return { name, datatype, shape, data };
}

function bytesElements(name: string, count: number, bytes: Uint8Array): string[] {
  // Every element takes at least its 4-byte length: checked before anything is allocated for a
  // shape that claims more elements than the bytes could hold (2^32 of them would not even fit
  // in an array).
  if (count * 4 > bytes.byteLength) {
    throw invalid(`input '${name}': shape of ${count} BYTES elements needs at least ${count * 4} bytes (a 4-byte length each), binary data has ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) throw invalid(`input '${name}': binary data ends inside the length of BYTES element ${i} of ${count}`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.byteLength) throw invalid(`input '${name}': BYTES element ${i} says ${length} bytes but only ${bytes.byteLength - at} remain`);
    try {
      out[i] = utf8.decode(bytes.subarray(at, at + length));
    } catch {
      throw invalid(`input '${name}': BYTES element ${i} is not UTF-8 text (onnxruntime-web string tensors hold text)`);
    }
    at += length;
  }
  if (at !== bytes.byteLength) throw invalid(`input '${name}': ${bytes.byteLength - at} bytes left over after ${count} BYTES elements`);
  return out;
}

/** A tensor's elements in binary form (a view of its storage when it can be). */
export function toBinary(t: Tensor): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error("binary tensors need a little-endian platform");
  if (Array.isArray(t.data)) {
    const encoded = t.data.map((s) => encoder.encode(s));
    const out = new Uint8Array(encoded.reduce((n, e) => n + 4 + e.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const e of encoded) {
      view.setUint32(at, e.byteLength, true);
      out.set(e, at + 4);
      at += 4 + e.byteLength;
    }
    return out;
  }
  const d = t.data as Exclude<TensorData, string[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * The shape of a single input sent as a raw body (no JSON header): the model's shape, with its one
 * dynamic dimension (if any) worked out from the byte count.
 */
export function shapeFromByteCount(name: string, datatype: Datatype, modelShape: readonly number[], byteCount: number): number[] {
  const size = datatypeInfo(datatype).size;
  if (size === 0) throw invalid(`input '${name}' is BYTES: a raw body cannot say where its elements end; send a JSON header`);
  if (byteCount % size !== 0) throw invalid(`the body's ${byteCount} bytes do not divide into ${datatype} elements of ${size} bytes`);
  const dynamic = modelShape.filter((d) => d === -1).length;
  if (dynamic > 1) {
    throw invalid(`input '${name}' has shape ${formatShape(modelShape)} with several dynamic dimensions: a raw body cannot say which; send a JSON header`);
  }
  const fixed = modelShape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const elements = byteCount / size;
  if (dynamic === 0) {
    if (elements !== fixed) throw invalid(`input '${name}' of shape ${formatShape(modelShape)} needs ${fixed * size} bytes, the body has ${byteCount}`);
    return [...modelShape];
  }
  if (fixed === 0 || elements % fixed !== 0 || elements === 0) {
    throw invalid(`the body's ${elements} ${datatype} elements do not fill a whole number of ${formatShape(modelShape)} (-1 free)`);
  }
  return modelShape.map((d) => (d === -1 ? elements / fixed : d));
}
