/** @module tensor/tensor: the one in-memory tensor every wire format decodes to and encodes from. */
import { invalid } from "../errors";
import type { Datatype, TensorData } from "./datatype";

/** A named, typed, shaped block of row-major elements. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/**
 * The most dimensions a tensor sent to the service may have. ONNX sets no limit, but real models
 * stay far below it (TensorFlow's own limit is 254); nesting a request's lists deeper is refused
 * with a 400 before anything walks them recursively.
 */
export const MAX_RANK = 64;

/** The 400 for lists nested past MAX_RANK, naming `what`. */
export const nestedTooDeep = (what: string) =>
  invalid(`${what}: nested lists are more than ${MAX_RANK} levels deep; a tensor has at most ${MAX_RANK} dimensions here`);

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

/** The lengths along `value`'s first items at each depth (its shape, if it is rectangular); undefined past MAX_RANK levels. */
export function leadingShape(value: unknown): number[] | undefined {
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    if (shape.length === MAX_RANK) return undefined;
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

/**
 * Shape of a nested JSON array (TF Serving infers shapes from nesting). Throws when the nesting is
 * ragged, naming `what`.
 */
export function inferShape(value: unknown, what: string): number[] {
  const shape = leadingShape(value);
  if (shape === undefined) throw nestedTooDeep(what);
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
