/**
 * @module serving/classification-config: the `classification` field of a model's config: labels
 * files for outputs (Triton's `label_filename`), and the features of a tabular model's one input
 * for TF Serving's `:classify`.
 */
import { z } from "zod";

/** A labels file's name: stored beside the model as `<model>/<name>`. */
export const LABELS_FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,123}\.txt$/;
const FEATURE = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

export const ClassificationSchema = z
  .object({
    /** Output name → labels file (one label per line, one line per class). */
    label_files: z.record(z.string().min(1), z.string().regex(LABELS_FILE, "a labels file's name is letters, digits, '_', '.' or '-', ending in .txt")).optional(),
    /** The names of the one input's last dimension, in order: `:classify` takes examples of them. */
    features: z
      .array(z.string().regex(FEATURE, "feature names are a letter or '_', then letters, digits, '_', '.' or '-'"))
      .min(1)
      .max(4096)
      .refine((f) => new Set(f).size === f.length, "feature names must be unique")
      .optional(),
    /** The output whose scores `:classify` answers with; default: the one output with a labels file, else the model's one output. */
    scores: z.string().min(1).optional(),
  })
  .strict();

export type ClassificationConfig = z.infer<typeof ClassificationSchema>;

/** The output `:classify` answers with, or a reason there is none. */
export function scoresOutput(config: ClassificationConfig, outputs: readonly { name: string }[]): string | { error: string } {
  if (config.scores !== undefined) return config.scores;
  const labelled = Object.keys(config.label_files ?? {});
  if (labelled.length === 1) return labelled[0]!;
  if (outputs.length === 1) return outputs[0]!.name;
  return { error: "the config's classification names no 'scores' output, and the model has several outputs and not exactly one with a labels file" };
}
