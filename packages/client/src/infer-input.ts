/**
 * @module infer-input: an input tensor for `infer`, as tritonclient's InferInput: a name, shape and
 * datatype, then its data, sent as binary (the default) or as JSON.
 */
import { arrayClass, elementCount, isDatatype, type Datatype, type NumericArray } from "./datatypes.js";
import { ClientUsageError } from "./errors.js";
import { fromHalfBits, toHalfBits } from "./float16.js";

/**
 * What `setData` takes: the datatype's typed array (held as is, never copied), or an array of
 * values: numbers (bigints too for INT64/UINT64), booleans for BOOL, numbers or Uint16Array bits
 * for FP16, strings or Uint8Arrays for BYTES.
 */
export type InputData = NumericArray | ArrayLike<number> | ArrayLike<bigint | number> | ArrayLike<boolean> | ArrayLike<string | Uint8Array>;

/** An input tensor as the request's JSON names it. */
export interface InputJson {
  name: string;
  shape: number[];
  datatype: Datatype;
  data?: unknown[];
  parameters?: Record<string, unknown>;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export class InferInput {
  readonly name: string;
  readonly datatype: Datatype;
  private dims: number[];
  private values: NumericArray | (string | Uint8Array)[] | undefined;
  private binary = true;

  constructor(name: string, shape: readonly number[], datatype: Datatype | string) {
    if (!isDatatype(datatype)) throw new ClientUsageError(`input '${name}': unknown datatype '${datatype}'`);
    this.name = name;
    this.datatype = datatype;
    this.dims = [...shape];
  }

  get shape(): number[] {
    return [...this.dims];
  }

  /** Changes the shape (the data set must still fill it). */
  setShape(shape: readonly number[]): this {
    this.dims = [...shape];
    return this;
  }

  /** Sets the data, in row-major order; `binary: false` sends it as JSON. */
  setData(data: InputData, options: { binary?: boolean } = {}): this {
    const count = elementCount(this.dims);
    if (data.length !== count) {
      throw new ClientUsageError(`input '${this.name}': shape [${this.dims.join(", ")}] holds ${count} elements, the data has ${data.length}`);
    }
    this.values = this.datatype === "BYTES" ? bytesElements(this.name, data) : toTypedArray(this.name, this.datatype, data);
    this.binary = options.binary ?? true;
    return this;
  }

  /** Whether the data goes as binary after the JSON header. */
  get isBinary(): boolean {
    return this.binary;
  }

  /** The input's JSON for the request (its data inline, or its binary size). */
  toJSON(): InputJson {
    const values = this.dataOrThrow();
    const head = { name: this.name, shape: this.shape, datatype: this.datatype };
    if (this.binary) return { ...head, parameters: { binary_data_size: this.binaryData().byteLength } };
    return { ...head, data: jsonValues(this.name, this.datatype, values) };
  }

  /** The data's little-endian bytes (a view of the typed array, no copy; BYTES are length-prefixed). */
  binaryData(): Uint8Array {
    const values = this.dataOrThrow();
    if (!Array.isArray(values)) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const parts = values.map((v) => (typeof v === "string" ? utf8.encode(v) : v));
    const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.byteLength, true);
      out.set(p, at + 4);
      at += 4 + p.byteLength;
    }
    return out;
  }

  private dataOrThrow(): NumericArray | (string | Uint8Array)[] {
    if (this.values === undefined) throw new ClientUsageError(`input '${this.name}': no data set (call setData)`);
    return this.values;
  }
}

/** The datatype's typed array holding `data`: the very array when it already is one. */
function toTypedArray(name: string, datatype: Exclude<Datatype, "BYTES">, data: InputData): NumericArray {
  const Class = arrayClass(datatype);
  if (data instanceof Class) return data;
  const source = Array.from(data as ArrayLike<unknown>);
  try {
    switch (datatype) {
      case "BOOL":
        return Uint8Array.from(source, (v) => (v ? 1 : 0));
      case "INT64":
        return BigInt64Array.from(source, (v) => BigInt(v as number | bigint));
      case "UINT64":
        return BigUint64Array.from(source, (v) => BigInt(v as number | bigint));
      case "FP16":
        return Uint16Array.from(source, (v) => toHalfBits(Number(v)));
      default: {
        const out = new Class(source.length) as Float64Array;
        const exact = datatype !== "FP32" && datatype !== "FP64";
        source.forEach((v, i) => {
          out[i] = Number(v);
          // An integer type would wrap a value out of its range, or drop a fraction, without a word.
          if (exact && out[i] !== Number(v)) throw new Error(`element ${i}, ${String(v)}, is not a value of ${datatype}`);
        });
        return out as NumericArray;
      }
    }
  } catch (e) {
    throw new ClientUsageError(`input '${name}': its data cannot be held as ${datatype}: ${(e as Error).message}`);
  }
}

/** BYTES elements, each a string or a Uint8Array. */
function bytesElements(name: string, data: InputData): (string | Uint8Array)[] {
  return Array.from(data as ArrayLike<unknown>, (v, i) => {
    if (typeof v === "string" || v instanceof Uint8Array) return v;
    throw new ClientUsageError(`input '${name}': BYTES element ${i} is ${typeof v}, not a string or a Uint8Array`);
  });
}

/** The values as JSON holds them. */
function jsonValues(name: string, datatype: Datatype, values: NumericArray | (string | Uint8Array)[]): unknown[] {
  switch (datatype) {
    case "BOOL":
      return Array.from(values as Uint8Array, (v) => v !== 0);
    case "FP16":
      return Array.from(values as Uint16Array, fromHalfBits);
    case "INT64":
    case "UINT64":
      return Array.from(values as BigInt64Array, (v) => {
        // JSON numbers are doubles: beyond 2^53 they would silently change.
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new ClientUsageError(`input '${name}': ${v} is beyond ±2^53, which JSON cannot carry exactly; send it as binary`);
        }
        return Number(v);
      });
    case "BYTES":
      return (values as (string | Uint8Array)[]).map((v) => {
        if (typeof v === "string") return v;
        try {
          return strictUtf8.decode(v);
        } catch {
          throw new ClientUsageError(`input '${name}': a BYTES element is not UTF-8 text, which JSON cannot carry; send it as binary`);
        }
      });
    default:
      return Array.from(values as Float32Array);
  }
}
