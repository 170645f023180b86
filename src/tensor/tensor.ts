/** @module tensor/tensor: the one in-memory tensor every wire format decodes to and encodes from. */
import { invalid } from "../errors";
import { datatypeInfo, integerRange, type Datatype, type TensorData } from "./datatype";
import { FP16_MAX, fromFloat16Bits, toFloat16Bits } from "./float16";

/** A named, typed, shaped block of row-major elements. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** A JSON scalar as it appears in a request or response body. */
export type JsonScalar = number | boolean | string | bigint | object;

/**
 * The most dimensions a tensor sent to the service may have. ONNX sets no limit, but real models
 * stay far below it (TensorFlow's own limit is 254); nesting a request's lists deeper is refused
 * with a 400 before anything walks them recursively.
 */
export const MAX_RANK = 64;

/** The 400 for lists nested past MAX_RANK, naming `what`. */
export const nestedTooDeep = (what: string) =>
  invalid(`${what}: nested lists are more than ${MAX_RANK} levels deep; a tensor has at most ${MAX_RANK} dimensions here`);

/** The smallest magnitude that rounds to infinity in half precision. */
const FP16_OVERFLOW = FP16_MAX + 16;

/** Number of elements a shape holds (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Formats a shape as `[2,3]` for error messages. */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * Flattens nested JSON arrays (KServe allows `data` flat or nested) into one row-major list.
 * Iterative, so deep or large arrays cannot overflow the stack.
 */
export function flatten(value: unknown): unknown[] {
  if (!Array.isArray(value)) return [value];
  if (!value.some(Array.isArray)) return value;
  const out: unknown[] = [];
  const stack: { items: unknown[]; i: number }[] = [{ items: value, i: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.items.length) {
      stack.pop();
      continue;
    }
    const item = top.items[top.i++];
    if (Array.isArray(item)) stack.push({ items: item, i: 0 });
    else out.push(item);
  }
  return out;
}

/**
 * Shape of a nested JSON array (TF Serving infers shapes from nesting). Throws when the nesting is
 * ragged, naming `what`.
 */
export function inferShape(value: unknown, what: string): number[] {
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    if (shape.length === MAX_RANK) throw nestedTooDeep(what);
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  checkRectangular(value, shape, 0, what);
  return shape;
}

function checkRectangular(value: unknown, shape: number[], depth: number, what: string): void {
  if (depth === shape.length) {
    if (Array.isArray(value)) throw invalid(`${what}: nested lists are ragged (deeper than ${formatShape(shape)})`);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw invalid(`${what}: nested lists are ragged; expected a rectangular shape ${formatShape(shape)}`);
  }
  for (const item of value) checkRectangular(item, shape, depth + 1, what);
}

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

/** Reshapes flat values into nested lists of `shape` (a scalar for rank 0). */
export function nest<T>(flat: readonly T[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  let level: unknown[] = flat as T[];
  for (let axis = shape.length - 1; axis > 0; axis--) {
    const size = shape[axis]!;
    const groups = elementCount(shape.slice(0, axis));
    const current = level;
    level = Array.from({ length: groups }, (_, g) => current.slice(g * size, (g + 1) * size));
  }
  return level;
}
