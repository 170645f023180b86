/**
 * @module tensor/axis: joining tensors along one axis and taking a range back out, for batches
 * whose batch dimension is not the first (a recurrent state shaped [layers, batch, units], say).
 * Row-major: along axis k a tensor is `outer` blocks (the product of the dimensions before k),
 * each holding its k-th dimension's entries of `inner` elements (the product of those after).
 */
import type { TensorData } from "./datatype";
import type { Tensor } from "./tensor";

const product = (dims: readonly number[]) => dims.reduce((n, d) => n * d, 1);

type Numeric = Exclude<TensorData, string[]>;

/** A new, empty array of `data`'s kind holding `n` elements. */
function like(data: TensorData, n: number): TensorData {
  if (Array.isArray(data)) return new Array<string>(n);
  return new (data.constructor as new (n: number) => Numeric)(n);
}

function copy(from: TensorData, start: number, end: number, to: TensorData, at: number): void {
  if (Array.isArray(from)) {
    for (let i = start; i < end; i++) (to as string[])[at + i - start] = from[i]!;
    return;
  }
  (to as unknown as { set(a: ArrayLike<number | bigint>, at: number): void }).set((from as Numeric).subarray(start, end) as ArrayLike<number | bigint>, at);
}

/**
 * Joins tensors that agree on every dimension but `axis` along it, in order. The result takes the
 * first's name and datatype.
 */
export function concatAlong(parts: readonly Tensor[], axis: number): Tensor {
  const first = parts[0]!;
  const outer = product(first.shape.slice(0, axis));
  const inner = product(first.shape.slice(axis + 1));
  const total = parts.reduce((n, p) => n + p.shape[axis]!, 0);
  const shape = [...first.shape];
  shape[axis] = total;
  const data = like(first.data, outer * total * inner);
  let offset = 0;
  for (const p of parts) {
    const rows = p.shape[axis]!;
    for (let o = 0; o < outer; o++) copy(p.data, o * rows * inner, (o + 1) * rows * inner, data, (o * total + offset) * inner);
    offset += rows;
  }
  return { name: first.name, datatype: first.datatype, shape, data };
}

/** Entries [start, start + count) of `t` along `axis`, as a copy. */
export function sliceAlong(t: Tensor, axis: number, start: number, count: number): Tensor {
  const outer = product(t.shape.slice(0, axis));
  const inner = product(t.shape.slice(axis + 1));
  const total = t.shape[axis]!;
  const shape = [...t.shape];
  shape[axis] = count;
  const data = like(t.data, outer * count * inner);
  for (let o = 0; o < outer; o++) copy(t.data, (o * total + start) * inner, (o * total + start + count) * inner, data, o * count * inner);
  return { name: t.name, datatype: t.datatype, shape, data };
}
