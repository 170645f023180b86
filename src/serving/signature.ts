/** @module serving/signature: checks request tensors against a model's inputs and picks its outputs. */
import { invalid } from "../errors";
import { formatShape, type Tensor } from "../tensor/tensor";
import { axisOf, isShared } from "./batch-axes";
import type { BatchingOptions } from "./batching-config";
import type { TensorSpec } from "./loader";

const names = (specs: readonly TensorSpec[]) => specs.map((s) => `'${s.name}'`).join(", ");

/** Every input present once, known, with the model's datatype and a shape that fits. */
export function checkInputs(specs: readonly TensorSpec[], inputs: readonly Tensor[]): void {
  for (const t of inputs) {
    const spec = specs.find((s) => s.name === t.name);
    if (!spec) throw invalid(`unknown input '${t.name}'; the model's inputs are ${names(specs)}`);
    if (t.datatype !== spec.datatype) {
      throw invalid(`input '${t.name}' has datatype ${t.datatype} but the model expects ${spec.datatype}`);
    }
    const fits = t.shape.length === spec.shape.length && spec.shape.every((d, i) => d === -1 || d === t.shape[i]);
    if (!fits) {
      throw invalid(`input '${t.name}' has shape ${formatShape(t.shape)} but the model expects ${formatShape(spec.shape)} (-1 is any size)`);
    }
  }
  const missing = specs.filter((s) => !inputs.some((t) => t.name === s.name));
  if (missing.length > 0) throw invalid(`missing input${missing.length > 1 ? "s" : ""} ${names(missing)}`);
}

/** The outputs to fetch: the requested ones, checked, or all of them. */
export function selectOutputs(specs: readonly TensorSpec[], requested?: readonly string[]): string[] {
  if (!requested) return specs.map((s) => s.name);
  for (const name of requested) {
    if (!specs.some((s) => s.name === name)) throw invalid(`unknown output '${name}'; the model's outputs are ${names(specs)}`);
  }
  return [...requested];
}

/** Where a model's batch sits, from its dynamic_batching settings (the first dimension by default). */
export type BatchLayout = Pick<BatchingOptions, "batch_axes" | "unbatched_inputs"> | undefined;

/** The inputs that carry the batch: those with a dynamic dimension at their batch axis, and the axis. */
export function batchedInputs(specs: readonly TensorSpec[], layout: BatchLayout): { name: string; axis: number }[] {
  return specs
    .filter((s) => !isShared(layout, s.name) && s.shape[axisOf(layout, s.name)] === -1)
    .map((s) => ({ name: s.name, axis: axisOf(layout, s.name) }));
}

/**
 * Refuses a request that carries more rows than the model's `max_batch_size` (Triton's): rows are
 * an input's entries along its batch dimension, for inputs the model leaves dynamic there.
 */
export function checkBatchLimit(model: string, specs: readonly TensorSpec[], inputs: readonly Tensor[], limit: number | undefined, layout: BatchLayout): void {
  if (limit === undefined) return;
  for (const { name, axis } of batchedInputs(specs, layout)) {
    const rows = inputs.find((t) => t.name === name)?.shape[axis] ?? 0;
    if (rows > limit) {
      throw invalid(`input '${name}' carries ${rows} rows along its batch dimension (${axis}); model '${model}' takes at most ${limit} per request (max_batch_size)`);
    }
  }
}
