/**
 * @module infer-result: an inference's answer, as tritonclient's InferResult: each output as a
 * typed array (binary outputs viewed where they lie in the body when aligned, else copied once),
 * its shape and datatype, and what the response's headers say (version, rate limit, timings).
 */
import { binarySlices, HEADER_LENGTH, type BinarySlice } from "./binary-framing.js";
import { arrayClass, elementSize, isDatatype, type Datatype, type NumericArray, type TensorData } from "./datatypes.js";
import { ClientUsageError } from "./errors.js";
import { fromHalfBits, toHalfBits } from "./float16.js";
import { parseJsonExact } from "./json-bigint.js";
import { responseInfo, type RateLimit } from "./response-info.js";

/** An output as the response's JSON gives it. */
export interface OutputJson {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: Record<string, unknown>;
}

/** The response's JSON (the header, for a binary response). */
export interface InferResponseJson {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: OutputJson[];
  parameters?: Record<string, unknown>;
}

const utf8 = new TextDecoder();

export class InferResult {
  /** The version that answered (X-Model-Version, else the body's model_version). */
  readonly modelVersion: string | undefined;
  /** The tenant's rate limit after this request (RateLimit-* headers), if the service sent it. */
  readonly rateLimit: RateLimit | undefined;
  /** The service's phases and their milliseconds (Server-Timing), e.g. `{ inference: 0.4, total: 2.1 }`. */
  readonly serverTiming: Record<string, number>;
  /** The request's id (X-Request-Id). */
  readonly requestId: string | undefined;
  private readonly cache = new Map<string, TensorData>();

  private constructor(
    private readonly json: InferResponseJson,
    private readonly body: ArrayBuffer | undefined,
    private readonly slices: Map<string, BinarySlice>,
    headers: Headers,
  ) {
    const info = responseInfo(headers);
    this.modelVersion = headers.get("x-model-version") ?? json.model_version;
    this.rateLimit = info.rateLimit;
    this.serverTiming = info.serverTiming;
    this.requestId = info.requestId;
  }

  /** Reads a successful infer response, JSON or binary. */
  static async from(response: Response): Promise<InferResult> {
    const headerLength = response.headers.get(HEADER_LENGTH);
    if (headerLength === null) {
      return new InferResult(parseJsonExact(await response.text()) as InferResponseJson, undefined, new Map(), response.headers);
    }
    const body = await response.arrayBuffer();
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.byteLength) throw new Error(`${HEADER_LENGTH} ${headerLength} does not fit the ${body.byteLength}-byte body`);
    const json = parseJsonExact(utf8.decode(new Uint8Array(body, 0, n))) as InferResponseJson;
    return new InferResult(json, body, binarySlices(json.outputs, n, body.byteLength), response.headers);
  }

  /** The response's JSON (for a binary response, its header: outputs without their data). */
  response(): InferResponseJson {
    return this.json;
  }

  get modelName(): string {
    return this.json.model_name;
  }

  /** The names of the outputs returned. */
  get outputNames(): string[] {
    return this.json.outputs.map((o) => o.name);
  }

  /** The output's JSON entry. */
  output(name: string): OutputJson {
    const found = this.json.outputs.find((o) => o.name === name);
    if (!found) throw new ClientUsageError(`no output '${name}' in the response (it has ${this.outputNames.map((n) => `'${n}'`).join(", ") || "none"})`);
    return found;
  }

  shape(name: string): number[] {
    return this.output(name).shape;
  }

  datatype(name: string): Datatype {
    const datatype = this.output(name).datatype;
    if (!isDatatype(datatype)) throw new ClientUsageError(`output '${name}' has datatype '${datatype}', which this client does not know`);
    return datatype;
  }

  /**
   * The output's elements: the datatype's typed array (BigInt64Array for INT64, Uint16Array of half
   * bits for FP16, Uint8Array of 0/1 for BOOL), or strings for BYTES. A binary output is a view of
   * the response body when its offset is aligned, so it shares that memory.
   */
  asTypedArray(name: string): TensorData {
    let data = this.cache.get(name);
    if (data === undefined) {
      data = this.decode(name);
      this.cache.set(name, data);
    }
    return data;
  }

  /** The output's elements as plain values: numbers (FP16 decoded), booleans, strings; 64-bit integers beyond 2^53 as bigints. */
  asArray(name: string): (number | bigint | boolean | string)[] {
    const datatype = this.datatype(name);
    const data = this.asTypedArray(name);
    if (datatype === "BYTES") return [...(data as string[])];
    if (datatype === "BOOL") return Array.from(data as Uint8Array, (v) => v !== 0);
    if (datatype === "FP16") return Array.from(data as Uint16Array, fromHalfBits);
    if (datatype === "INT64" || datatype === "UINT64") return Array.from(data as BigInt64Array, (v) => (Number.isSafeInteger(Number(v)) ? Number(v) : v));
    return Array.from(data as Float64Array);
  }

  /** A BYTES output's elements as bytes. */
  asBytes(name: string): Uint8Array[] {
    const slice = this.slices.get(name);
    if (slice && this.body) return splitBytes(new Uint8Array(this.body, slice.offset, slice.size), name);
    const encoder = new TextEncoder();
    return (this.asTypedArray(name) as string[]).map((s) => encoder.encode(s));
  }

  private decode(name: string): TensorData {
    const datatype = this.datatype(name);
    const slice = this.slices.get(name);
    if (slice && this.body) {
      if (datatype === "BYTES") return splitBytes(new Uint8Array(this.body, slice.offset, slice.size), name).map((b) => utf8.decode(b));
      const Class = arrayClass(datatype);
      const size = elementSize(datatype);
      if (slice.size % size !== 0) throw new Error(`output '${name}': ${slice.size} bytes is not a whole number of ${datatype} elements`);
      // A typed array's offset must be a multiple of its element size: view it there, else copy it once.
      return slice.offset % size === 0
        ? new Class(this.body, slice.offset, slice.size / size)
        : new Class(this.body.slice(slice.offset, slice.offset + slice.size));
    }
    const values = this.output(name).data;
    if (!values) throw new Error(`output '${name}' has neither data nor binary_data_size`);
    return fromJson(datatype, values);
  }
}

/** A JSON output's values as the datatype's typed array. */
function fromJson(datatype: Datatype, values: unknown[]): TensorData {
  switch (datatype) {
    case "BYTES":
      return values.map(String);
    case "BOOL":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case "INT64":
      return BigInt64Array.from(values, (v) => BigInt(v as number | bigint | string));
    case "UINT64":
      return BigUint64Array.from(values, (v) => BigInt(v as number | bigint | string));
    case "FP16":
      return Uint16Array.from(values, (v) => toHalfBits(Number(v)));
    default: {
      const out = new (arrayClass(datatype))(values.length) as Float64Array;
      values.forEach((v, i) => (out[i] = Number(v)));
      return out as NumericArray;
    }
  }
}

/** BYTES elements: each a 4-byte little-endian length, then its bytes. */
function splitBytes(bytes: Uint8Array, name: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; ) {
    if (at + 4 > bytes.byteLength) throw new Error(`output '${name}': a BYTES element's length is cut off`);
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.byteLength) throw new Error(`output '${name}': a BYTES element runs past the output's end`);
    out.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}
