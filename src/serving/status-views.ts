/**
 * @module serving/status-views: what an isolate knows of its sessions, for the status routes and
 * /admin: each session's state and how it was loaded, a batcher's counters, and the isolate's memory.
 */
import type { Batcher } from "./batcher";
import { runtimeStatus, wasmHeapBytes, wasmHeapMaxBytes } from "./loader";
import { sessionId, type EntryStatus } from "./manager";
import type { VersionEntry } from "./repository";
import type { ServingState } from "./serving-state";
import type { LoadTiming } from "./version-loader";

/** What the isolate knows of a version's session (with its model's current options): loaded, loading, failed, or nothing. */
export function loadState(state: ServingState, model: string, entry: VersionEntry): EntryStatus | undefined {
  const id = sessionId(state.sessionKey(model, entry));
  return state.manager.status().find((s) => sessionId(s) === id);
}

/** What the isolate knows of every session of `model`, with how each was loaded. */
export function loadStates(state: ServingState, model: string): (EntryStatus & { load?: LoadTiming })[] {
  return state.manager
    .status()
    .filter((s) => s.model === model)
    .map((s) => {
      const load = state.loadTiming(sessionId(s));
      return load ? { ...s, load } : s;
    });
}

/** The isolate's batching counters for a session, and its queue's length now, when it has a batcher. */
export function batchStats(state: ServingState, model: string, entry: VersionEntry): (Batcher["stats"] & { queued: number }) | undefined {
  const lease = state.manager.peek(state.sessionKey(model, entry));
  const batcher = lease ? state.batchers.batcherOf(lease) : undefined;
  return batcher ? { ...batcher.stats, queued: batcher.queued } : undefined;
}

/** The isolate's memory: ORT's heap, the sessions' estimated bytes and budget, every session. */
export function isolateStatus(state: ServingState) {
  return {
    onnxruntime: runtimeStatus(),
    wasm_heap_bytes: wasmHeapBytes(),
    wasm_heap_max_bytes: wasmHeapMaxBytes(),
    sessions_estimated_bytes: state.manager.usedBytes,
    sessions_budget_bytes: state.settings.maxSessionBytes,
    sessions: state.manager.status(),
    heap_growth: state.heap.growths(),
    response_cache: state.responses.status(),
  };
}
