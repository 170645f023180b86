/**
 * @module serving/batching-config: the `dynamic_batching` field of a model's config (Triton's
 * dynamic batcher and its schedule policy): its schema, and the settings a batcher runs with.
 */
import { z } from "zod";
import type { BatchLayout } from "./batch-axes";
import { MAX_TIMEOUT_US, type SchedulePolicy } from "./schedule";

/** Triton's ModelQueuePolicy, but for timeout_action: a timed-out request is always refused (REJECT). */
const QueuePolicyFields = z
  .object({
    default_timeout_microseconds: z.number().int().min(0).max(MAX_TIMEOUT_US).optional(),
    allow_timeout_override: z.boolean().optional(),
    max_queue_size: z.number().int().min(0).max(100_000).optional(),
  })
  .strict();

/** Joins concurrent requests into one run along the batch dimension (the first, unless named). */
export const DynamicBatchingSchema = z
  .object({
    max_batch_size: z.number().int().min(1).max(4096),
    max_queue_delay_ms: z.number().min(0).max(1000),
    /** Per input or output: the dimension holding the batch, when not the first (a recurrent state's). */
    batch_axes: z.record(z.string().min(1), z.number().int().min(0).max(15)).optional(),
    /** Inputs every request of a batch shares, such as a sample rate: only equal values join. */
    unbatched_inputs: z.array(z.string().min(1)).max(64).optional(),
    /** Triton's priority levels: 1 (highest) to this; a request names its level (docs/scheduling.md). */
    priority_levels: z.number().int().min(1).max(100).optional(),
    /** The level of a request that names none; required with priority_levels. */
    default_priority_level: z.number().int().min(1).max(100).optional(),
    /** Triton's ModelQueuePolicy for every level: default timeout, whether a request may shorten it, queue bound. */
    default_queue_policy: QueuePolicyFields.optional(),
    /** A level's own queue policy, in place of the default: level ("1", "2", ...) → policy. */
    priority_queue_policy: z.record(z.string().regex(/^[1-9][0-9]{0,2}$/, "priority_queue_policy keys are priority levels"), QueuePolicyFields).optional(),
  })
  .strict()
  .refine(
    (d) => (d.priority_levels === undefined) === (d.default_priority_level === undefined) && (d.default_priority_level ?? 0) <= (d.priority_levels ?? 0),
    { message: "default_priority_level is required with priority_levels, and is one of them (1 to priority_levels)", path: ["default_priority_level"] },
  )
  .refine((d) => Object.keys(d.priority_queue_policy ?? {}).every((level) => Number(level) <= (d.priority_levels ?? 0)), {
    message: "priority_queue_policy names a level past priority_levels",
    path: ["priority_queue_policy"],
  });

/** A model's batching settings (config.json `dynamic_batching`), with its layout and queue policy. */
export interface BatchingOptions extends BatchLayout, SchedulePolicy {
  /** Most rows (first-dimension entries) in one run. */
  max_batch_size: number;
  /**
   * Longest a request waits for others to join it, milliseconds, while no other request for the
   * version is on its way in the isolate; while some are, it waits for them, up to
   * `INBOUND_WAIT_LIMIT` times this.
   */
  max_queue_delay_ms: number;
}
