/** @module index: the Worker entry point. */
// Begins onnxruntime's start as the isolate starts, before any request (serving/startup).
import "./serving/startup";
import { createApp } from "./app";
import { writePayloadBatch, type PayloadRecord } from "./monitoring/payload-log";

export { ModelStats } from "./monitoring/model-stats";
export { TenantLimiter } from "./tenants/tenant-object";
export { ModelWriter } from "./serving/model-writer";

const app = createApp();

export default {
  fetch: app.fetch,
  /** The payload log's consumer: each batch to R2 as NDJSON; retried whole if R2 fails. */
  async queue(batch, env) {
    try {
      await writePayloadBatch(env.PAYLOAD_LOGS, batch.messages.map((m) => m.body as PayloadRecord), `${Date.now()}-${crypto.randomUUID().slice(0, 8)}`);
      batch.ackAll();
    } catch (e) {
      console.error(JSON.stringify({ level: "error", event: "payload_log_write_failed", messages: batch.messages.length, error: e instanceof Error ? e.message : String(e) }));
      batch.retryAll({ delaySeconds: 10 });
    }
  },
} satisfies ExportedHandler<Env>;
