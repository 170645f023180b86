/**
 * @module serving/classification: answers the outputs a request asked classification of
 * (Triton's extension) with their top classes, labelled from the model's labels files.
 */
import { ServingError } from "../errors";
import { classify, classLayout } from "../tensor/classification";
import type { Tensor } from "../tensor/tensor";
import { labelsFor, type LabelsSource } from "./class-labels";
import type { ModelSnapshot } from "./repository";

/** `outputs`, with each one named in `requested` (name → class count) replaced by its classification. */
export async function classifyOutputs(labels: LabelsSource, snapshot: ModelSnapshot, version: number, outputs: Tensor[], requested?: ReadonlyMap<string, number>): Promise<Tensor[]> {
  if (!requested) return outputs;
  return Promise.all(
    outputs.map(async (output) => {
      const k = requested.get(output.name);
      if (k === undefined) return output;
      return classify(output, k, await checkedLabels(labels, snapshot, version, output));
    }),
  );
}

/** The output's labels, when its model has a labels file for it whose count is its class count. */
export async function checkedLabels(source: LabelsSource, snapshot: ModelSnapshot, version: number, output: Tensor): Promise<string[] | undefined> {
  const labels = await labelsFor(source, snapshot, output.name);
  const { classes } = classLayout(output.shape);
  if (labels && labels.length !== classes) {
    // Possible only for a repository written around the admin API, which checks the counts.
    throw new ServingError("unavailable", `model '${snapshot.name}': the labels file for output '${output.name}' has ${labels.length} labels, but version ${version} answered ${classes} classes`);
  }
  return labels;
}
