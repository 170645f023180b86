/**
 * @module serving/batch-axes: where a model's tensors hold the batch (config.json
 * `dynamic_batching`'s `batch_axes` and `unbatched_inputs`), and whether a model can be batched so.
 */
import { own } from "../own";
import type { TensorSpec } from "./loader";

/** The batch's layout in a model's tensors. */
export interface BatchLayout {
  /** Per input or output: the dimension that holds the batch, when it is not the first. */
  batch_axes?: Record<string, number>;
  /** Inputs the whole batch shares (not batched): only requests sending equal values join. */
  unbatched_inputs?: string[];
}

/** The dimension of tensor `name` that holds the batch: the one `batch_axes` names, else the first. */
export const axisOf = (options: BatchLayout | undefined, name: string) => own(options?.batch_axes, name) ?? 0;
/** Whether input `name` is shared by a batch (`unbatched_inputs`) rather than batched. */
export const isShared = (options: BatchLayout | undefined, name: string) => options?.unbatched_inputs?.includes(name) ?? false;

/**
 * Why a model cannot be batched with `options`, or null if it can: every input but the shared
 * ones, and every output, needs a dynamic dimension at its batch axis.
 */
export function unbatchableReason(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], options?: BatchLayout): string | null {
  const names = new Set([...inputs, ...outputs].map((s) => s.name));
  for (const name of [...Object.keys(options?.batch_axes ?? {}), ...(options?.unbatched_inputs ?? [])]) {
    if (!names.has(name)) return `the model has no input or output '${name}'`;
  }
  for (const name of options?.unbatched_inputs ?? []) {
    if (!inputs.some((s) => s.name === name)) return `'${name}' is an output; only inputs can be unbatched`;
    if (own(options?.batch_axes, name) !== undefined) return `'${name}' cannot be both unbatched and batched along an axis`;
  }
  for (const s of [...inputs.filter((i) => !isShared(options, i.name)), ...outputs]) {
    const axis = axisOf(options, s.name);
    if (!(s.shape.length > axis && s.shape[axis] === -1)) {
      return `'${s.name}' has shape [${s.shape.join(",")}], with no dynamic dimension ${axis} to batch along${axis === 0 ? " (name another in batch_axes, or list the input in unbatched_inputs)" : ""}`;
    }
  }
  return null;
}

/** Whether a model can be batched (with `options`' axes and shared inputs). */
export const batchable = (inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], options?: BatchLayout): boolean =>
  unbatchableReason(inputs, outputs, options) === null;
