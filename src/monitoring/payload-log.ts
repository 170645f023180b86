/**
 * @module monitoring/payload-log: sampled request and response payloads, for offline analysis and
 * retraining. A prediction whose model samples it is sent to a Queue after the response
 * (waitUntil); the queue's consumer writes each batch to R2 as NDJSON, one object per model,
 * version and day in the batch: `<model>/<version>/<YYYY-MM-DD>/<time>-<id>.ndjson`. A failure to
 * enqueue (a full or unavailable queue) is logged and never touches the prediction.
 */
import { toJsonValues } from "../tensor/json-values";
import type { Tensor } from "../tensor/tensor";

/** One logged prediction. */
export interface PayloadRecord {
  request_id: string;
  at: string;
  model: string;
  version: number;
  tenant: string | null;
  inputs: { name: string; datatype: string; shape: number[]; data?: unknown[] }[];
  outputs: { name: string; datatype: string; shape: number[]; data?: unknown[] }[];
  /** Set when the tensors were too large for a queue message: their data is left out. */
  truncated?: boolean;
}

/** Queue messages are limited to 128 KB; leave room for the envelope. */
const MAX_MESSAGE_BYTES = 120 * 1024;

const asJson = (t: Tensor, data: boolean) => ({
  name: t.name,
  datatype: t.datatype,
  shape: t.shape,
  ...(data ? { data: toJsonValues(t).map((v) => (typeof v === "bigint" ? v.toString() : typeof v === "object" ? String(v) : v)) } : {}),
});

/** The record for a prediction; tensors' data is dropped (and `truncated` set) when too large. */
export function payloadRecord(meta: Omit<PayloadRecord, "inputs" | "outputs">, inputs: readonly Tensor[], outputs: readonly Tensor[]): PayloadRecord {
  const full: PayloadRecord = { ...meta, inputs: inputs.map((t) => asJson(t, true)), outputs: outputs.map((t) => asJson(t, true)) };
  if (JSON.stringify(full).length <= MAX_MESSAGE_BYTES) return full;
  return { ...meta, inputs: inputs.map((t) => asJson(t, false)), outputs: outputs.map((t) => asJson(t, false)), truncated: true };
}

/** The R2 key a batch's records of one model, version and day are written under. */
export const payloadKey = (model: string, version: number, day: string, batchId: string): string => `${model}/${version}/${day}/${batchId}.ndjson`;

/** Writes a queue batch to R2: one NDJSON object per model, version and day. */
export async function writePayloadBatch(bucket: R2Bucket, records: readonly PayloadRecord[], batchId: string): Promise<string[]> {
  const groups = new Map<string, PayloadRecord[]>();
  for (const r of records) {
    const key = payloadKey(r.model, r.version, r.at.slice(0, 10), batchId);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, group] of groups) {
    await bucket.put(key, group.map((r) => JSON.stringify(r)).join("\n") + "\n", { httpMetadata: { contentType: "application/x-ndjson" } });
  }
  return [...groups.keys()];
}

/**
 * Sends a prediction to the payload log if its model samples it (`sample_rate`), after the
 * response. `defer` is the request's waitUntil.
 */
export function samplePayload(
  queue: Queue | undefined,
  sampleRate: number | undefined,
  record: () => PayloadRecord,
  defer: (work: Promise<unknown>) => void,
): void {
  if (!queue || !sampleRate || Math.random() >= sampleRate) return;
  let message: PayloadRecord;
  try {
    message = record();
  } catch {
    return;
  }
  defer(
    queue.send(message, { contentType: "json" }).catch((e: unknown) => {
      console.error(JSON.stringify({ level: "error", event: "payload_log_enqueue_failed", model: message.model, request_id: message.request_id, error: e instanceof Error ? e.message : String(e) }));
    }),
  );
}
