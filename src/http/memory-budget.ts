/**
 * @module http/memory-budget: how much of the isolate's memory a request body holds, and how much
 * bodies may hold together (the budget itself is byte-budget, in the isolate core). A body holds the
 * estimated peak of the bytes that have arrived, growing as they arrive. A JSON body peaks at
 * several times its size (the text, the parsed arrays, the typed array, onnxruntime's copy), a
 * binary one at about its size (docs/performance.md has the ratios). So a body that is
 * slow to come holds only what came. What would take the isolate past REQUEST_MEMORY_BUDGET_BYTES,
 * or a tenant past its share of it (REQUEST_MEMORY_TENANT_SHARE), waits for others to finish; after
 * REQUEST_MEMORY_WAIT_MS a 503. One request's limit (MAX_JSON_REQUEST_BYTES) cannot stop two such
 * requests at once from taking an isolate past its 128 MB, which ends every request in it. The
 * budget is never more than what the isolate (ISOLATE_MEMORY_BYTES) has beside onnxruntime's heap,
 * which only grows: bodies are not let into memory the heap already holds.
 */
import type { BodyKind } from "../env";
import { settings } from "../settings";
import type { MemoryBudget } from "../byte-budget";

/** Peak memory per body byte: the measured ratios rounded up (`npm run bench -- heap`). */
const PEAK_PER_BYTE: Record<BodyKind, number> = { json: 3, binary: 1, upload: 2 };

/** The estimated peak of a body of `bytes` bytes. */
export const estimatedPeak = (kind: BodyKind, bytes: number): number => Math.ceil(PEAK_PER_BYTE[kind] * bytes);

/** The least the budget is, however large the heap: small bodies still run beside one another. */
export const MIN_CAPACITY_BYTES = 4 * 1024 * 1024;

/** The budget's settings, from the environment's settings (src/settings.ts). */
export interface BudgetSettings {
  /** REQUEST_MEMORY_BUDGET_BYTES: the most bodies may hold, however small the heap. */
  budgetBytes: number;
  /** ISOLATE_MEMORY_BYTES: the isolate's memory, onnxruntime's heap included. */
  isolateBytes: number;
  waitMs: number;
  /** REQUEST_MEMORY_TENANT_SHARE: the fraction of the capacity one tenant's bodies may hold. */
  tenantShare: number;
}

export function budgetSettings(env: object): BudgetSettings {
  const s = settings(env);
  return {
    budgetBytes: s.REQUEST_MEMORY_BUDGET_BYTES,
    isolateBytes: s.ISOLATE_MEMORY_BYTES,
    waitMs: s.REQUEST_MEMORY_WAIT_MS,
    tenantShare: s.REQUEST_MEMORY_TENANT_SHARE,
  };
}

/**
 * What bodies may hold now, beside onnxruntime's heap of `heapBytes` (null before it started):
 * the budget, within what the isolate has left beside the heap, and never under MIN_CAPACITY_BYTES.
 */
export function capacityNow(s: BudgetSettings, heapBytes: number | null): number {
  const left = Math.max(MIN_CAPACITY_BYTES, s.isolateBytes - (heapBytes ?? 0));
  return Math.min(s.budgetBytes, left);
}

/** One tenant's share of what bodies may hold now. */
export const tenantBytesNow = (s: BudgetSettings, heapBytes: number | null): number => Math.floor(capacityNow(s, heapBytes) * s.tenantShare);

/** The budget's settings and the isolate's `budget`, for /admin/isolate, beside a heap of `heapBytes`. */
export function memoryBudgetStatus(env: object, budget: MemoryBudget, heapBytes: number | null) {
  const s = budgetSettings(env);
  return {
    budget_bytes: s.budgetBytes,
    isolate_memory_bytes: s.isolateBytes,
    capacity_bytes: capacityNow(s, heapBytes),
    tenant_share_bytes: tenantBytesNow(s, heapBytes),
    ...budget.status(),
  };
}
