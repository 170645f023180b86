/** @module serving/config: a model's optional `<model>/config.json` (docs/storage-schema.md). */
import { z } from "zod";
import { isLabel } from "./names";
import { ClassificationSchema } from "./classification-config";
import { DynamicBatchingSchema } from "./batching-config";
import { ModelWarmup } from "./warmup";

const VERSION_KEY = /^[1-9][0-9]{0,14}$/;

/** The fields of a model config. */
const ConfigFields = z.object({
  description: z.string().max(4096).optional(),
  /**
   * Most rows (entries along the batch dimension) one request may carry, as Triton's: a larger
   * request is refused with a 400 before it runs. The guard against one request growing
   * onnxruntime's heap, which never shrinks, past the isolate's memory.
   */
  max_batch_size: z.number().int().min(1).max(1_000_000).optional(),
  default_version: z.number().int().positive().optional(),
  labels: z
    .record(z.string().refine(isLabel, "label names start with a letter, then letters, digits, '_' or '-'"), z.number().int().positive())
    .optional(),
  /** Labels files for outputs, and the features `:classify` takes (serving/classification-config). */
  classification: ClassificationSchema.optional(),
  /** Traffic split for requests that name no version or label: version → weight, summing to 100. */
  traffic: z
    .record(z.string().regex(VERSION_KEY, "traffic keys are versions (positive integers)"), z.number().int().min(0).max(100))
    .refine((t) => Object.values(t).reduce((a, b) => a + b, 0) === 100, "traffic weights must sum to 100")
    .optional(),
  /** Mirrors `percent` of requests to `version` after the response is sent; results are only compared. */
  shadow: z
    .object({
      version: z.number().int().positive(),
      percent: z.number().min(0).max(100),
    })
    .strict()
    .optional(),
  /** Alert rules, checked by the model's statistics object as statistics arrive. */
  alerts: z
    .object({
      /** Where a firing alert is POSTed as JSON, once per incident. */
      webhook: z.url({ protocol: /^https?$/ }),
      rules: z
        .array(
          z
            .object({
              name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "rule names are a letter, then letters, digits, '_' or '-'"),
              metric: z.enum(["p99_latency_ms", "error_rate", "drift_score"]),
              above: z.number().min(0),
              window_seconds: z.number().int().min(60).max(86_400).optional(),
              min_requests: z.number().int().min(1).optional(),
              tensor: z.string().min(1).optional(),
            })
            .strict()
            .refine((r) => r.metric !== "error_rate" || r.above < 1, "an error_rate threshold is a fraction below 1")
            .refine((r) => r.metric !== "drift_score" || r.tensor !== undefined, "a drift_score rule names its tensor"),
        )
        .min(1)
        .max(20)
        .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, "rule names must be unique"),
    })
    .strict()
    .optional(),
  /** Samples requests and responses to the payload log (a queue, then R2 as NDJSON). */
  payload_logging: z
    .object({ sample_rate: z.number().min(0).max(1) })
    .strict()
    .optional(),
  /**
   * onnxruntime's session options for this model's sessions (the levers `npm run bench` tries):
   * a change reloads them. Unset, onnxruntime's defaults with every graph optimisation.
   */
  onnxruntime: z
    .object({
      graph_optimization_level: z.enum(["disabled", "basic", "extended", "all"]).optional(),
      enable_mem_pattern: z.boolean().optional(),
      enable_cpu_mem_arena: z.boolean().optional(),
      /** Keeps weights as stored instead of repacking them for the matrix kernels (less heap). */
      disable_prepacking: z.boolean().optional(),
    })
    .strict()
    .optional(),
  /**
   * Keeps the model's answers for `ttl_seconds`, keyed by version, etag and the canonical request
   * (serving/response-cache): an identical request is answered without running the model. `scope`
   * "tenant" (the default) keeps each tenant's answers apart, so a hit never tells one tenant what
   * another sent; "model" shares them between tenants.
   */
  response_cache: z
    .object({ ttl_seconds: z.number().int().min(1).max(7 * 86_400), scope: z.enum(["tenant", "model"]).optional() })
    .strict()
    .optional(),
  /** Joins concurrent requests into one run along the batch dimension (serving/batching-config). */
  dynamic_batching: DynamicBatchingSchema.optional(),
  /**
   * Triton's model warm-up: samples every session of the model runs before it is ready, in every
   * isolate that loads it (serving/warmup). A sample the model cannot run fails the load.
   */
  model_warmup: ModelWarmup.optional(),
});

/** A joined batch may not carry more rows than a request may. */
const batchWithinLimit = (c: z.infer<typeof ConfigFields>) =>
  c.max_batch_size === undefined || c.dynamic_batching === undefined || c.dynamic_batching.max_batch_size <= c.max_batch_size;
const BATCH_LIMIT = { message: "dynamic_batching.max_batch_size may not exceed the model's max_batch_size", path: ["dynamic_batching", "max_batch_size"] };

/** The model config as stored in R2. Unknown fields are ignored on read. */
export const ModelConfigSchema = ConfigFields.refine(batchWithinLimit, BATCH_LIMIT);
export type ModelConfig = z.infer<typeof ConfigFields>;

/** What an operator may PUT: the same fields, but an unknown field is refused, not ignored. */
export const ModelConfigUpdateSchema = ConfigFields.strict().refine(batchWithinLimit, BATCH_LIMIT);

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

/** Every version a config sends traffic to or names, with where it names it. */
export function referencedVersions(config: ModelConfig): { version: number; by: string }[] {
  const refs: { version: number; by: string }[] = [];
  if (config.default_version !== undefined) refs.push({ version: config.default_version, by: "default_version" });
  for (const [label, version] of Object.entries(config.labels ?? {})) refs.push({ version, by: `label '${label}'` });
  for (const [version, weight] of Object.entries(config.traffic ?? {})) refs.push({ version: Number(version), by: `traffic (weight ${weight})` });
  if (config.shadow) refs.push({ version: config.shadow.version, by: "shadow" });
  return refs;
}

/** Why `config` cannot be used with these versions, or null when every version it names exists. */
export function checkConfigVersions(config: ModelConfig, versions: readonly number[]): string | null {
  const known = new Set(versions);
  const missing = referencedVersions(config).filter((r) => !known.has(r.version));
  if (missing.length === 0) return null;
  return missing.map((r) => `${r.by} points at version ${r.version}, which does not exist`).join("; ");
}
