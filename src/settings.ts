/**
 * @module settings: every wrangler.toml [vars] setting in one schema, with its default, type,
 * bounds and meaning. Parsed once per `env` object. A value that does not fit is an error naming
 * the variable, never a silent default. docs/configuration.md is checked against this schema.
 */
import { z } from "zod";

const MiB = 1024 * 1024;

const number = () => z.coerce.number({ error: "must be a number" });
const whole = (min: number) => number().int({ error: "must be a whole number" }).min(min, { error: `must be at least ${min}` });
const choice = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(", ")}` });
const amount = (min: number) => number().finite({ error: "must be a finite number" }).min(min, { error: `must be at least ${min}` });

/** The schema of [vars]. Unset or blank means the default; values are trimmed and lower-cased first. */
export const settingsSchema = z.object({
  MODEL_REFRESH_SECONDS: amount(0)
    .default(10)
    .describe("How long an isolate trusts its view of a model's versions and config before listing R2 again."),
  MODEL_CACHE_MAX_BYTES: whole(0).default(64 * MiB).describe("Memory budget for the ONNX sessions one isolate keeps loaded (estimated bytes)."),
  ORT_HEAP_MAX_BYTES: whole(1).default(96 * MiB).describe("The most onnxruntime's WebAssembly heap may grow to; a load or run past it fails alone with a 507."),
  MAX_REQUEST_BYTES: whole(1).default(32 * MiB).describe("Largest request body accepted, in bytes (model uploads have MAX_MODEL_BYTES)."),
  // JSON peaks at 2-3x its size in memory, a binary body under 1x: JSON gets the smaller limit.
  MAX_JSON_REQUEST_BYTES: whole(1).default(16 * MiB).describe("Largest JSON request body, in bytes (either protocol)."),
  MAX_MODEL_BYTES: whole(1).default(20 * MiB).describe("Largest model an upload (PUT /admin/models/{m}/versions/{v}) accepts, in bytes."),
  ISOLATE_MEMORY_BYTES: whole(1)
    .default(128 * MiB)
    .describe("The isolate's memory; request bodies may hold what onnxruntime's heap leaves of it, at most REQUEST_MEMORY_BUDGET_BYTES."),
  REQUEST_MEMORY_BUDGET_BYTES: whole(1)
    .default(48 * MiB)
    .describe("Estimated peak memory of the request bodies one isolate works on at once; requests beyond it wait."),
  REQUEST_MEMORY_WAIT_MS: whole(0).default(5000).describe("How long a request waits for room in the memory budget before a 503."),
  REQUEST_MEMORY_TENANT_SHARE: number()
    .gt(0, { error: "must be more than 0" })
    .max(1, { error: "must be at most 1" })
    .default(0.5)
    .describe("The share of the memory budget one tenant's bodies may hold at once, unless no other body is in flight."),
  REQUEST_BODY_TIMEOUT_MS: whole(1).default(10_000).describe("A request body that sends nothing for this long is ended with a 408."),
  REQUEST_BODY_MIN_BYTES_PER_SECOND: amount(0)
    .default(16_384)
    .describe("The least average rate a request body must keep after its first REQUEST_BODY_TIMEOUT_MS, else a 408."),
  MAX_RESPONSE_BYTES: whole(1).default(32 * MiB).describe("Largest answer, in bytes, checked from the outputs' shapes before encoding; over it, a 413."),
  RESPONSE_CACHE_MAX_BYTES: whole(0)
    .default(4 * MiB)
    .describe("Bytes of cached answers one isolate keeps for models with response_cache in their config."),
  MODEL_BYTES_CACHE: choice(["on", "off"])
    .default("on")
    .describe("Keep model bytes in the data centre's Cache API between isolate memory and R2 (needs a custom domain)."),
  RATE_LIMIT_FAILURE_MODE: choice(["closed", "open"])
    .default("closed")
    .describe("When the tenant's Durable Object cannot be reached: closed refuses with 503, open lets the request through."),
  RATE_LIMIT_TIMEOUT_MS: whole(1).default(2000).describe("How long to wait for the tenant's Durable Object before treating it as unreachable."),
  KEY_CACHE_SECONDS: amount(0).default(30).describe("How long an isolate remembers an API key lookup from KV (0: never)."),
  REQUEST_LOG: choice(["on", "errors", "off"])
    .default("on")
    .describe("One JSON log line per request: on for every one, errors for status 400 and up, off for none."),
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default("")
    .describe("Origins, comma-separated, whose browser pages may call the API (* for any); empty for none."),
  STATS_FLUSH_MS: whole(0).default(1000).describe("How often, at most, an isolate sends its request statistics to each model's statistics object."),
});

/** The parsed settings. */
export type Settings = z.infer<typeof settingsSchema>;

/** The names of every setting. */
export const SETTING_NAMES = Object.keys(settingsSchema.shape) as (keyof Settings)[];

/** A [vars] value that does not fit its setting. The message names each variable and its value. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

/** Unset and blank values become undefined (the default); the rest are trimmed and lower-cased. */
function rawValues(env: object): Record<string, string | undefined> {
  const vars = env as Record<string, unknown>;
  const raw: Record<string, string | undefined> = {};
  for (const name of SETTING_NAMES) {
    const value = vars[name];
    const text = typeof value === "string" ? value.trim().toLowerCase() : value === undefined ? "" : String(value);
    raw[name] = text === "" ? undefined : text;
  }
  return raw;
}

/** Parses the settings of `env`, throwing a SettingsError that names every bad variable. */
export function parseSettings(env: object): Settings {
  const raw = rawValues(env);
  const result = settingsSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return `${name}=${JSON.stringify((env as Record<string, unknown>)[name])}: ${issue.message}`;
  });
  throw new SettingsError(`bad [vars] setting: ${problems.join("; ")}`);
}

/** Settings (or the error) by env object: an isolate parses its env once. */
const parsed = new WeakMap<object, Settings | SettingsError>();

/** The settings of `env`, parsed on first use and cached; a bad value throws (and is logged once). */
export function settings(env: object): Settings {
  let entry = parsed.get(env);
  if (entry === undefined) {
    try {
      entry = parseSettings(env);
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      entry = e;
      console.error(JSON.stringify({ level: "error", event: "bad_settings", error: e.message }));
    }
    parsed.set(env, entry);
  }
  if (entry instanceof SettingsError) throw entry;
  return entry;
}
