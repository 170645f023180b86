/**
 * @module http/prediction: what every protocol does with a prediction besides answering it: say
 * which version answered (for the log and statistics), add its phases to Server-Timing, summarise
 * its tensors for drift, sample it to the payload log, and mirror it to the shadow version.
 */
import type { Context } from "hono";
import { deferrer } from "../defer";
import type { AppEnv } from "../env";
import { payloadRecord, samplePayload } from "../monitoring/payload-log";
import type { InferResult, Target } from "../serving/service";
import { mirrorToShadow } from "./shadow";

/** Records a prediction (before its response is encoded). */
export function recordPrediction(c: Context<AppEnv>, target: Target, result: InferResult): void {
  // The version that answered: a routed target may have fallen back to another while loading.
  const t = result.entry === target.entry ? target : { ...target, entry: result.entry };
  c.set("served", { model: t.snapshot.name, version: t.entry.version, inference: true });
  c.get("timings")?.add("load", result.loadMs);
  // A cached answer ran no inference: its lookup is its own phase (`cache`).
  if (result.cache) c.get("timings")?.add("cache", result.cache.ms);
  if (result.cache?.lookup !== "hit") c.get("timings")?.add("inference", result.runMs);
  c.var.core.stats.buffer.tensors(t.snapshot.name, t.entry.version, result.inputs, result.outputs);
  // The record (and its timestamp) is built only for a sampled request.
  samplePayload(c.env.PAYLOAD_QUEUE, t.snapshot.config.payload_logging?.sample_rate, () => {
    const meta = { request_id: c.get("requestId") ?? "", at: new Date().toISOString(), model: t.snapshot.name, version: t.entry.version, tenant: c.get("caller")?.tenant ?? null };
    return payloadRecord(meta, result.inputs, result.outputs);
  }, deferrer(c));
  // A cached answer is not mirrored: its request was compared (if sampled) when it ran, and its
  // run time of 0 would skew the primary's in the comparison.
  if (result.cache?.lookup !== "hit") mirrorToShadow(c, t, result);
}

/** Encodes the response, timing it as the `encode` phase. */
export function timedEncode<T>(c: Context<AppEnv>, encode: () => T): T {
  const started = performance.now();
  try {
    return encode();
  } finally {
    c.get("timings")?.add("encode", performance.now() - started);
  }
}
