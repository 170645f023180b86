/**
 * @module serving/classification-check: whether a model's `classification` config fits its
 * versions: each labels file published, with one label per class of its output, and the features
 * of `:classify` the last dimension of the one input. Checked by the admin API before a config or
 * a version is written, so neither is written when they do not fit.
 */
import { invalid } from "../errors";
import { declaredClasses, rankable } from "../tensor/classification";
import { formatShape } from "../tensor/tensor";
import { parseLabels } from "./class-labels";
import { scoresOutput } from "./classification-config";
import type { ModelConfig } from "./config";
import type { TensorSpec } from "./loader";
import type { ModelRepository } from "./repository";

/** The labels files a config names, as read: their label counts and the etags read. */
export interface LabelFiles {
  counts: Map<string, number>;
  etags: { name: string; etag: string }[];
}

/** Reads the labels files `config` names; 400 when one is not published or not a labels file. */
export async function readLabelFiles(repo: ModelRepository, model: string, config: ModelConfig, refusal: string): Promise<LabelFiles> {
  const files = new Set(Object.values(config.classification?.label_files ?? {}));
  const counts = new Map<string, number>();
  const etags: { name: string; etag: string }[] = [];
  for (const name of files) {
    const read = await repo.readFile(model, name);
    if (!read) throw invalid(`${refusal}: labels file '${name}' is not published for model '${model}': PUT /admin/models/${model}/labels/${name} first`);
    const labels = parseLabels(read.bytes);
    if (!Array.isArray(labels)) throw invalid(`${refusal}: labels file '${name}': ${labels.error}`);
    counts.set(name, labels.length);
    etags.push({ name, etag: read.etag });
  }
  return { counts, etags };
}

/** Why `config`'s classification does not fit `version` with these inputs and outputs, or null. */
export function classificationProblem(config: ModelConfig, files: LabelFiles, version: number, signature: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }): string | null {
  const classification = config.classification;
  if (!classification) return null;
  const output = (name: string) => signature.outputs.find((o) => o.name === name);
  const ranked = (name: string, why: string): TensorSpec | string => {
    const spec = output(name);
    if (!spec) return `${why} names output '${name}', which version ${version} does not have (its outputs: ${signature.outputs.map((o) => o.name).join(", ")})`;
    if (!rankable(spec.datatype)) return `${why} names output '${name}', which is ${spec.datatype} in version ${version}; only numeric outputs have classes`;
    return spec;
  };
  for (const [name, file] of Object.entries(classification.label_files ?? {})) {
    const spec = ranked(name, `labels file '${file}'`);
    if (typeof spec === "string") return spec;
    const classes = declaredClasses(name, spec.shape);
    const count = files.counts.get(file)!;
    if (typeof classes === "string") return `labels file '${file}' cannot be checked against version ${version}: ${classes}`;
    if (classes !== count) return `labels file '${file}' has ${count} labels, but output '${name}' of version ${version} has ${classes} classes (shape ${formatShape(spec.shape)})`;
  }
  if (classification.features) {
    const { features } = classification;
    if (signature.inputs.length !== 1) return `classification.features is for a model with one input; version ${version} has ${signature.inputs.length}`;
    const input = signature.inputs[0]!;
    const width = input.shape[1];
    if (input.shape.length !== 2 || !rankable(input.datatype) || (width !== -1 && width !== features.length)) {
      return `classification.features names ${features.length} features, but the input '${input.name}' of version ${version} is ${input.datatype} ${formatShape(input.shape)}; it must be numeric [batch, ${features.length}]`;
    }
    const scores = scoresOutput(classification, signature.outputs);
    if (typeof scores !== "string") return `classification: ${scores.error}`;
    const spec = ranked(scores, "classification.scores");
    if (typeof spec === "string") return spec;
    if (spec.shape.length !== 2) return `classification.scores names output '${scores}', which is ${formatShape(spec.shape)} in version ${version}; :classify needs [batch, classes]`;
  }
  return null;
}
