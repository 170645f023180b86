/** @module serving/config: a model's optional `<model>/config.json` (docs/storage-schema.md). */
import { z } from "zod";
import { isLabel } from "./names";

/** The model config as stored in R2. Unknown fields are ignored on read. */
export const ModelConfigSchema = z.object({
  description: z.string().max(4096).optional(),
  default_version: z.number().int().positive().optional(),
  labels: z
    .record(z.string().refine(isLabel, "label names start with a letter, then letters, digits, '_' or '-'"), z.number().int().positive())
    .optional(),
  /** Traffic split for requests that name no version or label: version → weight, summing to 100. */
  traffic: z
    .record(z.string().regex(/^[1-9][0-9]{0,14}$/, "traffic keys are versions (positive integers)"), z.number().int().min(0).max(100))
    .refine((t) => Object.values(t).reduce((a, b) => a + b, 0) === 100, "traffic weights must sum to 100")
    .optional(),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Parses config.json text; returns the config or a reason it is unusable. */
export function parseModelConfig(text: string): { config: ModelConfig } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { error: `config.json is not valid JSON: ${(e as Error).message}` };
  }
  const parsed = ModelConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `config.json field '${issue.path.join(".")}': ${issue.message}` };
  }
  return { config: parsed.data };
}
