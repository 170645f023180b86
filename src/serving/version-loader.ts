/**
 * @module serving/version-loader: a version's session, made from its bytes: read from the
 * repository, created by onnxruntime with the key's options, warmed up by the model's config,
 * with how long each step took kept for /admin and logged (`model_load`).
 */
import { ServingError } from "../errors";
import type { BytesSource } from "./bytes-cache";
import type { ModelConfig } from "./config";
import { heapExhausted } from "./heap-exhausted";
import { loadSession, OrtHeapError, startRuntime, wasmHeapBytes, type LoadedSession } from "./loader";
import { sessionId, type SessionKey } from "./manager";
import type { ServingObserver } from "./observer";
import type { ModelRepository, VersionEntry } from "./repository";
import type { ServingState } from "./serving-state";
import { tuningOf } from "./session-options";
import { runWarmup, WarmupError, type WarmupDone } from "./warmup";

/** How a session was loaded: where its bytes came from and how long each step took. */
export interface LoadTiming {
  source: BytesSource;
  read_ms: number;
  /** How long the load waited, its bytes read, for onnxruntime's start (begun as the isolate started). */
  runtime_wait_ms: number;
  create_ms: number;
  /** The model's warm-up runs before the session was ready (model_warmup), and their time. */
  warmup_runs: number;
  warmup_ms: number;
  at: string;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Runs the config's warm-up on a new session, before anyone may use it. A failure releases the
 * session and throws the warm-up's reason: the load fails with it.
 */
export async function warmUp(session: LoadedSession, config: ModelConfig | undefined): Promise<WarmupDone> {
  try {
    return await runWarmup(session, config?.model_warmup, config?.max_batch_size !== undefined);
  } catch (e) {
    await session.release();
    throw e;
  }
}

/** Reads a version's bytes and creates its session with the key's options, recording how long each took. */
export async function loadVersion(state: ServingState, repository: ModelRepository, observer: ServingObserver, key: SessionKey, entry: VersionEntry): Promise<LoadedSession> {
  const { model: name } = key;
  const { version } = entry;
  let read: { bytes: Uint8Array; source: BytesSource };
  const started = performance.now();
  try {
    read = await repository.read(name, entry);
  } catch (e) {
    state.snapshots.delete(name); // the object changed under us, or R2 failed: look again next time
    throw e;
  }
  const readAt = performance.now();
  await startRuntime();
  const runtimeAt = performance.now();
  try {
    const session = await loadSession(read.bytes, tuningOf(key.options ?? ""));
    const createdAt = performance.now();
    const warmup = await warmUp(session, state.configOf(name));
    const timing = { source: read.source, read_ms: round(readAt - started), runtime_wait_ms: round(runtimeAt - readAt), create_ms: round(createdAt - runtimeAt), warmup_runs: warmup.runs, warmup_ms: warmup.ms, at: new Date().toISOString() };
    state.recordLoad(sessionId(key), timing);
    observer.load(name, version, false);
    state.heap.note(name, version, null);
    console.log(JSON.stringify({ level: "info", event: "model_load", model: name, version, bytes: entry.size, ...timing, wasm_heap_bytes: wasmHeapBytes() }));
    return session;
  } catch (e) {
    observer.load(name, version, true);
    if (e instanceof OrtHeapError) throw heapExhausted(`loading model '${name}' version ${version}`, e);
    if (e instanceof WarmupError && e.cause instanceof OrtHeapError) {
      throw heapExhausted(`warming up model '${name}' version ${version}`, e.cause);
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw new ServingError("unavailable", `model '${name}' version ${version} failed to load: ${reason}`, { cause: e });
  }
}
