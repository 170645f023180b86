/**
 * @module http/admin-isolate: what the isolate that answers holds (admin token only): the bytes of
 * onnxruntime's WebAssembly heap (which only grows, within the isolate's 128 MB), the sessions'
 * estimated bytes against MODEL_CACHE_MAX_BYTES, each session's state, and the request bodies in
 * flight against what they may hold now (REQUEST_MEMORY_BUDGET_BYTES, within ISOLATE_MEMORY_BYTES
 * less the heap).
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { adminDocs as docs } from "./openapi/admin-docs";
import { memoryBudgetStatus } from "./memory-budget";

/** Routes under /admin/isolate. */
export const adminIsolate = new Hono<AppEnv>().get("/", docs.isolate, (c) => {
  const isolate = c.get("service").isolate();
  return c.json({ ...isolate, request_memory: memoryBudgetStatus(c.env, c.var.core.bodies, isolate.wasm_heap_bytes) });
});
