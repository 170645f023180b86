/**
 * @module tensor/json-values: a tensor's elements as JSON values, both ways: requests' values
 * checked against the datatype (type and range) into its typed array, and outputs' elements back
 * out as numbers, booleans and strings.
 */
import { invalid } from "../errors";
import { LITTLE_ENDIAN } from "./binary";
import { datatypeInfo, integerRange, type Datatype, type TensorData } from "./datatype";
import { FP16_MAX, fromFloat16Bits, toFloat16Bits } from "./float16";
import { elementCount, formatShape, type Tensor } from "./tensor";

/** A JSON scalar as it appears in a request or response body. */
export type JsonScalar = number | boolean | string | bigint | object;

/** The smallest magnitude that rounds to infinity in half precision. */
const FP16_OVERFLOW = FP16_MAX + 16;

/** Builds a tensor from flat JSON values, checking each value's type and range for the datatype. */
export function fromJsonValues(name: string, datatype: Datatype, shape: number[], values: readonly unknown[]): Tensor {
  const expected = elementCount(shape);
  if (values.length !== expected) {
    throw invalid(
      `input '${name}': shape ${formatShape(shape)} holds ${expected} elements but data has ${values.length}`,
    );
  }
  const writer = new ElementWriter(name, datatype, expected);
  writer.put(values, 0);
  return { name, datatype, shape, data: writer.data() };
}

/**
 * Builds a tensor from `data` laid out as `shape` says: one flat list of its elements, or lists
 * nested exactly to the shape. Each innermost list is written straight into the tensor's array, so
 * a nested image costs no flat copy and no second walk to check its nesting. Undefined for
 * anything else (other nesting, a scalar, a value that fails its checks): `flatten` and
 * `fromJsonValues` take those, accepting any nesting with the right count and wording every error.
 */
export function fromJsonLaidOut(name: string, datatype: Datatype, shape: readonly number[], data: unknown): Tensor | undefined {
  if (!Array.isArray(data) || shape.length === 0) return undefined;
  const n = elementCount(shape);
  // Found before anything is allocated, so the tensor is never larger than the lists it is read from.
  const runs = data.length === n && !Array.isArray(data[0]) ? [data] : innermostLists(data, shape);
  if (runs === undefined) return undefined;
  try {
    const writer = new ElementWriter(name, datatype, n);
    writer.putRuns(runs);
    return { name, datatype, shape: [...shape], data: writer.data() };
  } catch {
    return undefined;
  }
}

/** `data`'s innermost lists in order, when each list at depth d has shape[d] items; else undefined. */
function innermostLists(data: unknown, shape: readonly number[]): unknown[][] | undefined {
  const runs: unknown[][] = [];
  const last = shape.length - 1;
  const width = shape[last];
  const walk = (list: unknown, depth: number): boolean => {
    if (!Array.isArray(list) || list.length !== shape[depth]) return false;
    if (depth === last) {
      runs.push(list);
      return true;
    }
    // The level above the innermost checked in place: images' innermost lists can be 3 long (HWC).
    if (depth === last - 1) {
      for (const run of list) {
        if (!Array.isArray(run) || run.length !== width) return false;
        runs.push(run);
      }
      return true;
    }
    for (const item of list) if (!walk(item, depth + 1)) return false;
    return true;
  };
  return walk(data, 0) ? runs : undefined;
}

/**
 * A tensor's elements written from JSON values a run at a time (a flat list is one run, nested
 * lists one per innermost list), each value checked for the datatype as it is written.
 */
class ElementWriter {
  private readonly out: TensorData | number[];
  private readonly bounds?: { min: bigint; max: bigint };
  /**
   * Writes a run; returns the index of its first unfit value, or -1. One loop per kind of datatype
   * (the write* functions below), alike in shape on purpose: each stays monomorphic in its array.
   */
  private readonly write: (out: never, values: readonly unknown[], at: number) => number;

  constructor(
    private readonly name: string,
    private readonly datatype: Datatype,
    n: number,
  ) {
    // FP16 elements are gathered as numbers and turned into half-precision bits at the end.
    this.out = datatype === "FP16" ? new Array<number>(n) : datatypeInfo(datatype).array(n);
    this.bounds = integerRange(datatype);
    // As numbers the bounds are exact up to 32 bits, and a 64-bit value is a safe integer first.
    const min = Number(this.bounds?.min ?? 0);
    const max = Number(this.bounds?.max ?? 0);
    this.write =
      datatype === "BYTES" ? writeStrings
      : datatype === "BOOL" ? writeBooleans
      : datatype === "FP16" ? writeHalves
      : datatype === "FP32" ? writeFloats
      : datatype === "FP64" ? writeDoubles
      : datatype === "INT64" || datatype === "UINT64" ? wideWriter(this.out as BigInt64Array, min, max)
      : (out: Int32Array, values, at) => writeIntegers(out, values, at, min, max);
  }

  /** Writes `values` as elements `at`, `at + 1`, ...; a value of the wrong type or out of range is a 400 naming its index. */
  put(values: readonly unknown[], at: number): void {
    const bad = this.write(this.out as never, values, at);
    if (bad >= 0) throw this.unfitError(values, at, bad);
  }

  /** Writes `runs` one after another from element 0, as `put` does each. */
  putRuns(runs: readonly (readonly unknown[])[]): void {
    const write = this.write;
    let at = 0;
    for (const run of runs) {
      const bad = write(this.out as never, run, at);
      if (bad >= 0) throw this.unfitError(run, at, bad);
      at += run.length;
    }
  }

  /** The elements written. */
  data(): TensorData {
    return this.datatype === "FP16" ? toFloat16Bits(this.out as number[]) : (this.out as TensorData);
  }

  /** The 400 for `values[bad]`, element `at + bad`. */
  private unfitError(values: readonly unknown[], at: number, bad: number) {
    return invalid(`input '${this.name}': element ${at + bad} (${preview(values[bad])}) ${this.unfit(values[bad])} for datatype ${this.datatype}`);
  }

  /** Why `v` is no element of this datatype. */
  private unfit(v: unknown): string {
    switch (this.datatype) {
      case "BYTES": return "is not a string";
      case "BOOL": return "is not true or false";
      case "FP16": case "FP32": case "FP64": return typeof v !== "number" ? "is not a number" : "is out of range";
    }
    if (typeof v !== "number" || !Number.isInteger(v)) return "is not an integer";
    if ((this.datatype === "INT64" || this.datatype === "UINT64") && !Number.isSafeInteger(v)) return "is beyond ±2^53, which JSON numbers cannot carry exactly";
    return `is out of range [${this.bounds!.min}, ${this.bounds!.max}]`;
  }
}

function writeStrings(out: string[], values: readonly unknown[], at: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "string") return i;
    out[at + i] = v;
  }
  return -1;
}

function writeBooleans(out: Uint8Array, values: readonly unknown[], at: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "boolean") return i;
    out[at + i] = v ? 1 : 0;
  }
  return -1;
}

function writeHalves(out: number[], values: readonly unknown[], at: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !(Math.abs(v) < FP16_OVERFLOW)) return i;
    out[at + i] = v;
  }
  return -1;
}

function writeFloats(out: Float32Array, values: readonly unknown[], at: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Finite once rounded to single precision.
    if (typeof v !== "number" || !Number.isFinite(Math.fround(v))) return i;
    out[at + i] = v;
  }
  return -1;
}

function writeDoubles(out: Float64Array, values: readonly unknown[], at: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number") return i;
    out[at + i] = v;
  }
  return -1;
}

function writeIntegers(out: Int32Array, values: readonly unknown[], at: number, min: number, max: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) return i;
    out[at + i] = v;
  }
  return -1;
}

function wideWriter(out: BigInt64Array | BigUint64Array, min: number, max: number) {
  const words = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
  return (_: unknown, values: readonly unknown[], at: number) => writeWideIntegers(words, values, at, min, max);
}

/** Where a 64-bit element's low 32 bits lie in a pair of Int32Array words: the platform's byte order. */
const LOW = LITTLE_ENDIAN ? 0 : 1;

/**
 * 64-bit integers as the two 32-bit two's-complement words of each (`words` views the BigInt64Array
 * or BigUint64Array), written from the number itself: no BigInt made per element.
 */
function writeWideIntegers(words: Int32Array, values: readonly unknown[], at: number, min: number, max: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) return i;
    const k = 2 * (at + i);
    words[k + LOW] = v >>> 0; // v mod 2^32, exact for a safe integer
    words[k + 1 - LOW] = Math.floor(v / 4294967296);
  }
  return -1;
}

function preview(v: unknown): string {
  const s = typeof v === "bigint" ? `${v}` : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * A tensor's elements as flat JSON values: numbers, booleans, strings; 64-bit integers beyond 2^53
 * as exact raw JSON numbers.
 */
export function toJsonValues(t: Tensor): JsonScalar[] {
  const d = t.data;
  if (Array.isArray(d)) return d;
  if (t.datatype === "BOOL") return Array.from(d as Uint8Array, (v) => v !== 0);
  if (t.datatype === "FP16") return fromFloat16Bits(d as Uint16Array);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    return Array.from(d as ArrayLike<bigint>, (v) =>
      v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : rawJson(v),
    );
  }
  return Array.from(d as ArrayLike<number>);
}

function rawJson(v: bigint): object {
  return (JSON as unknown as { rawJSON(text: string): object }).rawJSON(v.toString());
}
