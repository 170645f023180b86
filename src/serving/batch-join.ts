/**
 * @module serving/batch-join: which requests may share a run and how they share it. A request's
 * batch key and rows decide whom it may join; its inputs are concatenated along their batch axes,
 * and the run's outputs sliced back along theirs.
 */
import { concatAlong, sliceAlong } from "../tensor/axis";
import type { Tensor } from "../tensor/tensor";
import { axisOf, isShared, type BatchLayout } from "./batch-axes";

/** Most elements an unbatched input may have: its values are compared across requests. */
const MAX_SHARED_ELEMENTS = 64;

/**
 * The key of a request that may join others: its outputs, and its inputs' datatypes and shapes
 * beyond the batch axis (and values, if shared). Requests with equal keys may run together.
 */
export function batchKey(layout: BatchLayout, inputs: readonly Tensor[], fetches: readonly string[]): string {
  return `${fetches.join("\u0000")}\u0001${inputs
    .map((t) => {
      if (isShared(layout, t.name)) return `${t.name}:${t.datatype}:${t.shape.join(",")}=${Array.from(t.data as ArrayLike<unknown>, String).join(",")}`;
      const axis = axisOf(layout, t.name);
      return `${t.name}:${t.datatype}:${t.shape.filter((_, i) => i !== axis).join(",")}`;
    })
    .sort()
    .join("\u0000")}`;
}

/**
 * A request's batch size: what its batched inputs agree on along their batch axes; null when
 * they disagree, are empty, or a shared input is too large to compare (it then runs alone).
 */
export function batchRows(layout: BatchLayout, inputs: readonly Tensor[]): number | null {
  let rows: number | null = null;
  for (const t of inputs) {
    if (isShared(layout, t.name)) {
      if (t.data.length > MAX_SHARED_ELEMENTS) return null;
      continue;
    }
    const n = t.shape[axisOf(layout, t.name)];
    if (n === undefined || n < 1 || (rows !== null && n !== rows)) return null;
    rows = n;
  }
  return rows;
}

/** Each input joined across requests along its batch axis (inputs matched by name); a shared input once. */
export function joinInputs(layout: BatchLayout, requests: readonly (readonly Tensor[])[]): Tensor[] {
  return requests[0]!.map((t) =>
    isShared(layout, t.name) ? t : concatAlong(requests.map((r) => r.find((x) => x.name === t.name)!), axisOf(layout, t.name)),
  );
}

/** Whether every output of a joined run kept the batch: `rows` entries along its batch axis. */
export const keepsBatch = (layout: BatchLayout, outputs: readonly Tensor[], rows: number): boolean =>
  outputs.every((t) => t.shape[axisOf(layout, t.name)] === rows);

/** A joined run's outputs sliced back into each request's, in order, by each request's rows. */
export function splitOutputs(layout: BatchLayout, outputs: readonly Tensor[], rows: readonly number[]): Tensor[][] {
  let row = 0;
  return rows.map((n) => {
    const slice = outputs.map((t) => sliceAlong(t, axisOf(layout, t.name), row, n));
    row += n;
    return slice;
  });
}
