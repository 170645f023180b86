/**
 * @module tensor/json-values: a tensor's elements as JSON values, both ways: requests' values
 * checked against the datatype (type and range) into its typed array, and outputs' elements back
 * out as numbers, booleans and strings.
 */
import { invalid } from "../errors";
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
  return { name, datatype, shape, data: convert(name, datatype, values) };
}

function convert(name: string, datatype: Datatype, values: readonly unknown[]): TensorData {
  const fail = (i: number, why: string) =>
    invalid(`input '${name}': element ${i} (${preview(values[i])}) ${why} for datatype ${datatype}`);
  const n = values.length;
  switch (datatype) {
    case "BYTES": {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== "string") throw fail(i, "is not a string");
        out[i] = v;
      }
      return out;
    }
    case "BOOL": {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== "boolean") throw fail(i, "is not true or false");
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case "FP16":
    case "FP32":
    case "FP64": {
      const nums = datatype === "FP16" ? new Array<number>(n) : (datatypeInfo(datatype).array(n) as Float32Array);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== "number") throw fail(i, "is not a number");
        if (!fitsFloat(datatype, v)) throw fail(i, "is out of range");
        nums[i] = v;
      }
      return datatype === "FP16" ? toFloat16Bits(nums) : (nums as Float32Array);
    }
    default: {
      const range = integerRange(datatype)!;
      const wide = datatype === "INT64" || datatype === "UINT64";
      const out = datatypeInfo(datatype).array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== "number" || !Number.isInteger(v)) throw fail(i, "is not an integer");
        if (wide && !Number.isSafeInteger(v)) throw fail(i, "is beyond ±2^53, which JSON numbers cannot carry exactly");
        const b = BigInt(v);
        if (b < range.min || b > range.max) throw fail(i, `is out of range [${range.min}, ${range.max}]`);
        (out as unknown as (number | bigint)[])[i] = wide ? b : v;
      }
      return out;
    }
  }
}

/** True when a finite number stays finite once rounded to the float type. */
function fitsFloat(datatype: "FP16" | "FP32" | "FP64", v: number): boolean {
  if (datatype === "FP16") return Math.abs(v) < FP16_OVERFLOW;
  if (datatype === "FP32") return Number.isFinite(Math.fround(v));
  return true;
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
