/**
 * @module serving/warmup: Triton's model warm-up. A model's config may list warm-up samples
 * (`model_warmup`): inputs of zeros, random values or given data, each run `count` times on every
 * session of the model before that session is ready. A fresh isolate's first user request is
 * then never a version's first run, and a sample the model cannot run fails the load with its reason.
 */
import { z } from "zod";
import { DATATYPES, datatypeInfo, type Datatype } from "../tensor/datatype";
import { fromJsonValues } from "../tensor/json-values";
import type { TensorData } from "../tensor/datatype";
import { elementCount, formatShape, type Tensor } from "../tensor/tensor";
import type { LoadedSession } from "./loader";
import { checkInputs } from "./signature";

/** The most elements one warm-up input may hold: a warm-up is a small run, not a load test. */
export const MAX_WARMUP_ELEMENTS = 1 << 20;

/** A datatype as KServe names it (FP32) or as Triton's config does (TYPE_FP32; TYPE_STRING for BYTES). */
export function warmupDatatype(name: string): Datatype | undefined {
  const bare = name.startsWith("TYPE_") ? name.slice(5) : name;
  const datatype = bare === "STRING" ? "BYTES" : bare;
  return (DATATYPES as readonly string[]).includes(datatype) ? (datatype as Datatype) : undefined;
}

const WarmupInput = z
  .object({
    data_type: z.string().refine((s) => warmupDatatype(s) !== undefined, `a datatype such as FP32 or TYPE_FP32 (one of ${DATATYPES.join(", ")})`),
    /** The input's shape, without the batch dimension when the model has max_batch_size (as Triton's). */
    dims: z.array(z.number().int().min(0).max(MAX_WARMUP_ELEMENTS)).max(16),
    zero_data: z.literal(true).optional(),
    random_data: z.literal(true).optional(),
    /** The values, flattened in row-major order (Triton reads them from input_data_file). */
    input_data: z.array(z.union([z.number(), z.boolean(), z.string()])).max(MAX_WARMUP_ELEMENTS).optional(),
  })
  .strict()
  .refine((i) => [i.zero_data, i.random_data, i.input_data].filter((x) => x !== undefined).length === 1, "give exactly one of zero_data, random_data or input_data");

/** One warm-up sample, as Triton's ModelWarmup. */
export const WarmupSample = z
  .object({
    name: z.string().min(1).max(64),
    /** Rows of the run, prepended to every input's dims when the model has max_batch_size; else 1. */
    batch_size: z.number().int().min(1).max(1024).optional(),
    inputs: z.record(z.string().min(1), WarmupInput).refine((r) => Object.keys(r).length > 0, "a warm-up sample needs at least one input"),
    /** How many times the sample runs (Triton's count; 1 when unset). */
    count: z.number().int().min(1).max(16).optional(),
  })
  .strict();

export type WarmupSample = z.infer<typeof WarmupSample>;

/** The warm-up samples of a config: at most 8, with distinct names. */
export const ModelWarmup = z
  .array(WarmupSample)
  .min(1)
  .max(8)
  .refine((samples) => new Set(samples.map((s) => s.name)).size === samples.length, "warm-up sample names must be unique");

/** Why a warm-up sample could not be built or run. */
export class WarmupError extends Error {
  override name = "WarmupError";
}

function randomData(datatype: Datatype, n: number): TensorData {
  const data = datatypeInfo(datatype).array(n);
  if (Array.isArray(data)) return data.fill("warm-up");
  for (let i = 0; i < n; i++) {
    // Small non-negative values: valid as indices, token ids or booleans, finite as floats.
    const r = Math.random();
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(Math.floor(r * 2));
    else if (data instanceof Float32Array || data instanceof Float64Array) data[i] = r;
    else if (datatype === "FP16") data[i] = 0x3800; // 0.5: half-precision bits
    else data[i] = Math.floor(r * 2);
  }
  return data;
}

/** The sample's input tensors; `batched` when the model's config sets max_batch_size (Triton's rule). */
export function warmupInputs(sample: WarmupSample, batched: boolean): Tensor[] {
  if (!batched && (sample.batch_size ?? 1) !== 1) {
    throw new WarmupError(`batch_size ${sample.batch_size} needs max_batch_size in the model's config; without it, dims is the whole shape and batch_size is 1`);
  }
  return Object.entries(sample.inputs).map(([name, input]) => {
    const datatype = warmupDatatype(input.data_type)!;
    const shape = batched ? [sample.batch_size ?? 1, ...input.dims] : [...input.dims];
    const n = elementCount(shape);
    if (n > MAX_WARMUP_ELEMENTS) throw new WarmupError(`input '${name}' of shape ${formatShape(shape)} has more than ${MAX_WARMUP_ELEMENTS} elements`);
    if (input.input_data) {
      if (input.input_data.length !== n) throw new WarmupError(`input '${name}' has ${input.input_data.length} values for shape ${formatShape(shape)} (${n} elements)`);
      try {
        return fromJsonValues(name, datatype, shape, input.input_data);
      } catch (e) {
        throw new WarmupError(`input '${name}': ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return { name, datatype, shape, data: input.random_data ? randomData(datatype, n) : datatypeInfo(datatype).array(n) };
  });
}

/** What a warm-up did: how many runs, and how long they took in all. */
export interface WarmupDone {
  runs: number;
  ms: number;
}

/**
 * Runs every sample `count` times on `session`, in order, fetching every output. Throws a
 * WarmupError naming the sample and the model's reason at the first that fails.
 */
export async function runWarmup(session: LoadedSession, samples: readonly WarmupSample[] | undefined, batched: boolean): Promise<WarmupDone> {
  const started = performance.now();
  let runs = 0;
  const outputs = session.outputs.map((o) => o.name);
  for (const sample of samples ?? []) {
    try {
      const inputs = warmupInputs(sample, batched);
      checkInputs(session.inputs, inputs);
      for (let i = 0; i < (sample.count ?? 1); i++) {
        await session.run(inputs, outputs);
        runs++;
      }
    } catch (e) {
      throw new WarmupError(`warm-up sample '${sample.name}' failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return { runs, ms: Math.round((performance.now() - started) * 100) / 100 };
}
