/**
 * The binary tensor wire format written and read independently of src/tensor (a test must not
 * check the codec with itself): typed arrays, DataView and TextEncoder only.
 */
import { getFloat16, setFloat16 } from "@petamoriken/float16";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Little-endian bytes of `values` as `datatype`. */
export function toBytes(datatype: string, values: readonly unknown[]): Uint8Array {
  if (datatype === "BYTES") {
    const parts = values.map((v) => enc.encode(v as string));
    const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.length, true);
      out.set(p, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  const size = { BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8 }[datatype]!;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    const at = i * size;
    switch (datatype) {
      case "BOOL": view.setUint8(at, v ? 1 : 0); break;
      case "UINT8": view.setUint8(at, v as number); break;
      case "INT8": view.setInt8(at, v as number); break;
      case "UINT16": view.setUint16(at, v as number, true); break;
      case "INT16": view.setInt16(at, v as number, true); break;
      case "FP16": setFloat16(view, at, v as number, true); break;
      case "UINT32": view.setUint32(at, v as number, true); break;
      case "INT32": view.setInt32(at, v as number, true); break;
      case "FP32": view.setFloat32(at, v as number, true); break;
      case "UINT64": view.setBigUint64(at, BigInt(v as number), true); break;
      case "INT64": view.setBigInt64(at, BigInt(v as number), true); break;
      case "FP64": view.setFloat64(at, v as number, true); break;
    }
  });
  return out;
}

/** Values of `datatype` read back from little-endian bytes (64-bit integers as numbers). */
export function fromBytes(datatype: string, bytes: Uint8Array): unknown[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: unknown[] = [];
  if (datatype === "BYTES") {
    for (let at = 0; at < bytes.length; ) {
      const n = view.getUint32(at, true);
      out.push(dec.decode(bytes.subarray(at + 4, at + 4 + n)));
      at += 4 + n;
    }
    return out;
  }
  const size = toBytes(datatype, [0]).length;
  for (let at = 0; at < bytes.length; at += size) {
    switch (datatype) {
      case "BOOL": out.push(view.getUint8(at) === 1); break;
      case "UINT8": out.push(view.getUint8(at)); break;
      case "INT8": out.push(view.getInt8(at)); break;
      case "UINT16": out.push(view.getUint16(at, true)); break;
      case "INT16": out.push(view.getInt16(at, true)); break;
      case "FP16": out.push(getFloat16(view, at, true)); break;
      case "UINT32": out.push(view.getUint32(at, true)); break;
      case "INT32": out.push(view.getInt32(at, true)); break;
      case "FP32": out.push(view.getFloat32(at, true)); break;
      case "UINT64": out.push(Number(view.getBigUint64(at, true))); break;
      case "INT64": out.push(Number(view.getBigInt64(at, true))); break;
      case "FP64": out.push(view.getFloat64(at, true)); break;
    }
  }
  return out;
}

/** A request body: JSON header (then `pad` spaces) then binary parts; returns it with the header's length. */
export function binaryBody(header: object, parts: readonly Uint8Array[], pad = 0): { body: Uint8Array; headerLength: number } {
  const json = enc.encode(JSON.stringify(header) + " ".repeat(pad));
  const body = new Uint8Array(json.length + parts.reduce((n, p) => n + p.length, 0));
  body.set(json);
  let at = json.length;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return { body, headerLength: json.length };
}

/** Splits a binary response into its JSON header and the bytes of each binary output, by name. */
export async function readBinaryResponse(res: Response): Promise<{ json: { outputs: { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size?: number } }[]; model_version: string }; parts: Map<string, Uint8Array> }> {
  const length = Number(res.headers.get("Inference-Header-Content-Length"));
  const body = new Uint8Array(await res.arrayBuffer());
  const json = JSON.parse(dec.decode(body.subarray(0, length)));
  const parts = new Map<string, Uint8Array>();
  let at = length;
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    parts.set(o.name, body.subarray(at, at + size));
    at += size;
  }
  if (at !== body.length) throw new Error(`response has ${body.length - at} bytes beyond its outputs`);
  return { json, parts };
}
