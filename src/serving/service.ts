/**
 * @module serving/service: what the protocol frontends call. Resolves a request to a version,
 * leases its session from the isolate's manager (loading it from R2 on first use) and runs it.
 * Holds only isolate-wide caches (snapshots and sessions), never `env` or a request.
 */
import { invalid, notFound, ServingError } from "../errors";
import type { Tensor } from "../tensor/tensor";
import { loadSession, OrtError, OrtHeapError, runtimeStatus, setWasmHeapMax, startRuntime, wasmHeapBytes, wasmHeapMaxBytes, type LoadedSession, type TensorSpec } from "./loader";
import { ModelManager, sessionId, type EntryStatus, type Lease, type SessionKey } from "./manager";
import { BytesCache, type BytesSource } from "./bytes-cache";
import { ModelRepository, type ModelSnapshot, type VersionEntry } from "./repository";
import { Availability } from "./availability";
import { resolveVersion, type VersionSelector } from "./router";
import { batcherFor, batcherOf, type Batcher } from "./batcher";
import { batchable } from "./batch-axes";
import { Inbound } from "./inbound";
import { answerDropped, checkTurn, schedulingClock, ticketFor, type ScheduleRequest } from "./schedule";
import { checkBatchLimit, checkInputs, selectOutputs } from "./signature";
import { heapGrowth, noteHeap } from "./heap-watch";
import { heapExhausted } from "./heap-exhausted";
import { sessionOptionsOf, tuningOf } from "./session-options";
import { TtlCache } from "../ttl-cache";
import { numberVar } from "../vars";

/** Settings read from the environment (wrangler.toml [vars]). */
export interface ServingSettings {
  /** How long a model's version list and config are trusted before R2 is listed again. */
  refreshMs: number;
  /** Estimated bytes of sessions the isolate keeps loaded. */
  maxSessionBytes: number;
  /** Keep model bytes in the data centre's Cache API between isolate memory and R2. */
  bytesCache: boolean;
  /** The most onnxruntime's WebAssembly heap may grow to. */
  heapMaxBytes: number;
}

const DEFAULTS = { refreshSeconds: 10, maxSessionBytes: 64 * 1024 * 1024, heapMaxBytes: 96 * 1024 * 1024 };

/** Reads ServingSettings from the environment, with defaults for unset or unparsable values. */
export function servingSettings(
  env: Partial<Record<"MODEL_REFRESH_SECONDS" | "MODEL_CACHE_MAX_BYTES" | "MODEL_BYTES_CACHE" | "ORT_HEAP_MAX_BYTES", string>>,
): ServingSettings {
  return {
    refreshMs: numberVar(env.MODEL_REFRESH_SECONDS, DEFAULTS.refreshSeconds) * 1000,
    maxSessionBytes: numberVar(env.MODEL_CACHE_MAX_BYTES, DEFAULTS.maxSessionBytes),
    bytesCache: (env.MODEL_BYTES_CACHE ?? "on").trim().toLowerCase() !== "off",
    heapMaxBytes: numberVar(env.ORT_HEAP_MAX_BYTES, DEFAULTS.heapMaxBytes),
  };
}

/**
 * A session's footprint in ORT's heap, estimated from the file: the weights are copied in, and
 * the graph, arena and kernels need room beside them.
 */
export const estimateSessionBytes = (fileBytes: number): number => 2 * fileBytes + 1024 * 1024;

// Isolate-wide state: survives between requests in one isolate, never shared between isolates.
const snapshots = new TtlCache<ModelSnapshot | null>();
const manager = new ModelManager({
  maxBytes: DEFAULTS.maxSessionBytes,
  failureTtlMs: DEFAULTS.refreshSeconds * 1000,
  // Bytes ORT rejected stay rejected: remember that. An R2 hiccup or a full heap is retried by the next request.
  remembers: (e) => e instanceof ServingError && e.cause instanceof OrtError && !(e.cause instanceof OrtHeapError),
});
/** Each model's session options, from its config as last listed: part of every session key. */
const optionsByModel = new Map<string, string>();
/** The key of a version's session built with `options` ("" for the defaults). */
const keyWith = (model: string, e: VersionEntry, options: string): SessionKey =>
  options ? { model, version: e.version, etag: e.etag, options } : { model, version: e.version, etag: e.etag };
/** The key of a version's session, with the options the model's config now asks for. */
const sessionKey = (model: string, e: VersionEntry): SessionKey => keyWith(model, e, optionsByModel.get(model) ?? "");
const availability = new Availability((model, e) => manager.isReady(sessionKey(model, e)));

/** How a session was loaded: where its bytes came from and how long each step took. */
export interface LoadTiming {
  source: BytesSource;
  read_ms: number;
  create_ms: number;
  at: string;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const loadTimings = new Map<string, LoadTiming>();

function recordLoad(id: string, timing: LoadTiming): void {
  loadTimings.set(id, timing);
  if (loadTimings.size > 256) {
    const live = new Set(manager.status().map(sessionId));
    for (const key of loadTimings.keys()) if (!live.has(key)) loadTimings.delete(key);
  }
}

/** A request's target: the model as the repository has it, and the version chosen. */
export interface Target {
  snapshot: ModelSnapshot;
  entry: VersionEntry;
  /** True when no version or label was asked for: such a target may fall back (see `lease`). */
  routed: boolean;
}

/** A prediction and what produced it, for the response and for shadow comparison. */
export interface InferResult {
  outputs: Tensor[];
  /** The decoded, checked inputs. */
  inputs: Tensor[];
  /** The outputs fetched, in order. */
  fetched: string[];
  /** Time in the session's run, milliseconds. */
  runMs: number;
  /** Time to lease the session (a load, when it was not loaded), milliseconds. */
  loadMs: number;
}

/** Whether a request has scheduled onnxruntime's start in this isolate (startRuntimeSoon). */
let runtimeScheduled = false;

/** Inference requests on their way to each version's session (isolate-wide), for the batchers. */
const inbound = new Inbound();

/** Whether a session's every input and output has a dynamic first dimension (memoised per session). */
const batchDimension = new WeakMap<LoadedSession, boolean>();
function hasBatchDimension(session: LoadedSession): boolean {
  let has = batchDimension.get(session);
  if (has === undefined) batchDimension.set(session, (has = batchable(session.inputs, session.outputs)));
  return has;
}

const keyOf = (t: Target): SessionKey => sessionKey(t.snapshot.name, t.entry);

/** What the serving core tells monitoring, which it never imports. */
export interface ServingObserver {
  /** A cold load of a version, or a failed one. */
  load(model: string, version: number, failed: boolean): void;
  /** A successful run of a version on `batchSize` rows: one request's, or a dynamic batch's. */
  execution(model: string, version: number, batchSize: number, ms: number): void;
}

const unobserved: ServingObserver = { load: () => undefined, execution: () => undefined };

/** The serving core for one request. Cheap to construct. */
export class ModelService {
  private readonly repository: ModelRepository;

  /**
   * `defer` runs work after the response is sent (the request's waitUntil); without one, such
   * work just runs unawaited.
   */
  constructor(
    bucket: R2Bucket,
    private readonly settings: ServingSettings,
    private readonly defer: (work: Promise<unknown>) => void = () => undefined,
    /** Told of every cold load (and failed one) and every run, for statistics. */
    private readonly observer: ServingObserver = unobserved,
  ) {
    this.repository = new ModelRepository(bucket, BytesCache.open(settings.bytesCache, defer));
    setWasmHeapMax(settings.heapMaxBytes);
    manager.configure(settings.maxSessionBytes, Math.max(settings.refreshMs, 1000));
  }

  /** The repository, for the admin operations. */
  get models(): ModelRepository {
    return this.repository;
  }

  /** Forgets this isolate's view of a model, so the next request lists R2 again (after an admin write). */
  forget(model: string): void {
    snapshots.delete(model);
  }

  /** The model as the repository has it (cached for the refresh interval); 404 when it has no version. */
  async snapshot(model: string): Promise<ModelSnapshot> {
    const snapshot = await snapshots.get(model, this.settings.refreshMs, () =>
      this.shared(
        this.repository.snapshot(model).then((s) => {
          optionsByModel.set(model, sessionOptionsOf(s?.config));
          return s;
        }),
      ),
    );
    if (!snapshot) throw notFound(`model '${model}' not found`);
    return snapshot;
  }

  /** Resolves `selector` to a version of `model`. */
  async resolve(model: string, selector: VersionSelector): Promise<Target> {
    const latest = await this.snapshot(model);
    if (selector.kind !== "default") return { snapshot: latest, entry: resolveVersion(latest, selector), routed: false };
    const snapshot = availability.choose(latest, (entries) => {
      const loading = Promise.all(entries.map((e) => this.warm(latest.name, e)));
      this.defer(loading.catch(() => undefined));
      return loading;
    });
    return { snapshot, entry: resolveVersion(snapshot, selector), routed: true };
  }

  /**
   * Leases the target's session, loading it if needed; 503 with ORT's reason when it cannot load.
   * A routed target (no version or label asked for) whose version fails to load falls back to the
   * version this isolate last served routed traffic of the model with, if it is still published
   * and loaded, and `target.entry` says so: a bad rollout leaves the previous version serving
   * rather than failing every request.
   */
  async lease(target: Target): Promise<Lease> {
    const name = target.snapshot.name;
    try {
      const lease = await this.leaseEntry(name, target.entry);
      if (target.routed) availability.served(name, target.entry.version);
      return lease;
    } catch (e) {
      const fallback = target.routed ? availability.fallback(target.snapshot, target.entry.version) : undefined;
      if (!fallback) throw e;
      console.warn(JSON.stringify({ level: "warn", event: "fallback", model: name, failed: target.entry.version, serving: fallback.version, error: e instanceof Error ? e.message : String(e) }));
      target.entry = fallback;
      return this.leaseEntry(name, fallback);
    }
  }

  /**
   * A load that other requests may await (a listing, a session) runs in this request's waitUntil
   * too: should this request be cancelled, its client gone, the load still finishes for them.
   */
  private shared<T>(load: Promise<T>): Promise<T> {
    this.defer(load.catch(() => undefined));
    return load;
  }

  private leaseEntry(name: string, entry: VersionEntry): Promise<Lease> {
    const key = sessionKey(name, entry);
    return manager.acquire(key, estimateSessionBytes(entry.size), () => this.shared(this.loadVersion(key, entry)));
  }

  /** Reads a version's bytes and creates its session with the key's options, recording how long each took. */
  private async loadVersion(key: SessionKey, entry: VersionEntry): Promise<LoadedSession> {
    const { model: name } = key;
    const { version } = entry;
    let read: { bytes: Uint8Array; source: BytesSource };
    const started = performance.now();
    try {
      read = await this.repository.read(name, entry);
    } catch (e) {
      snapshots.delete(name); // the object changed under us, or R2 failed: look again next time
      throw e;
    }
    const readAt = performance.now();
    try {
      const session = await loadSession(read.bytes, tuningOf(key.options ?? ""));
      const timing = { source: read.source, read_ms: round(readAt - started), create_ms: round(performance.now() - readAt), at: new Date().toISOString() };
      recordLoad(sessionId(key), timing);
      this.observer.load(name, version, false);
      noteHeap(name, version, null);
      console.log(JSON.stringify({ level: "info", event: "model_load", model: name, version, bytes: entry.size, ...timing, wasm_heap_bytes: wasmHeapBytes() }));
      return session;
    } catch (e) {
      this.observer.load(name, version, true);
      if (e instanceof OrtHeapError) throw heapExhausted(`loading model '${name}' version ${version}`, e);
      const reason = e instanceof Error ? e.message : String(e);
      throw new ServingError("unavailable", `model '${name}' version ${version} failed to load: ${reason}`, { cause: e });
    }
  }

  /**
   * Begins onnxruntime's start in this isolate, if it has not begun, for a request that is about
   * to need a model: one timer turn later, so that the I/O the request issues next (its tenant's
   * rate-limit call, which an isolate's first request always makes) is on its way first, and the
   * start's CPU runs while it is in flight rather than after the model's bytes arrive.
   */
  startRuntimeSoon(): void {
    if (runtimeScheduled) return;
    runtimeScheduled = true;
    this.defer(new Promise((resolve) => setTimeout(resolve, 0)).then(startRuntime));
  }

  /** The target's inputs and outputs, from the loaded model. */
  async signature(target: Target): Promise<{ inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }> {
    const lease = await this.lease(target);
    lease.release();
    return { inputs: lease.session.inputs, outputs: lease.session.outputs };
  }

  /**
   * Runs the target on a request, returning the `outputs` asked for (all by default). `read`
   * reads the request's body and gives the decoder that turns it into tensors once the model's
   * inputs are known. From the start until the request is decoded it counts as on its way to the
   * version's batcher, which waits for such requests rather than a fixed delay.
   */
  async infer(
    target: Target,
    read: () => Promise<(inputs: readonly TensorSpec[]) => { inputs: Tensor[]; outputs?: readonly string[]; schedule?: ScheduleRequest }>,
    /** Aborts when the client goes away: a request not yet run is then never run (serving/schedule). */
    signal?: AbortSignal,
  ): Promise<InferResult> {
    // A request's timeout counts from here: reading its body, loading the model and the queue all use it up.
    const arrived = schedulingClock.now();
    const arrival = inbound.arrive(`${target.snapshot.name}\u0000${target.entry.version}`);
    try {
      const decode = await read();
      const leasing = performance.now();
      const lease = await this.lease(target);
      const loadMs = performance.now() - leasing;
      try {
        const request = decode(lease.session.inputs);
        checkInputs(lease.session.inputs, request.inputs);
        checkBatchLimit(target.snapshot.name, lease.session.inputs, request.inputs, target.snapshot.config.max_batch_size, target.snapshot.config.dynamic_batching);
        const fetched = selectOutputs(lease.session.outputs, request.outputs);
        const ticket = ticketFor(request.schedule ?? {}, target.snapshot.config.dynamic_batching, arrived, signal);
        arrival.done();
        try {
          const started = performance.now();
          const batching = target.snapshot.config.dynamic_batching;
          const { session } = lease;
          const { name } = target.snapshot;
          const { version } = target.entry;
          const observer = this.observer;
          const batcher = batching
            ? batcherFor(session, batching, (rows, ms) => {
                noteHeap(name, version, rows);
                observer.execution(name, version, rows, ms);
              })
            : null;
          let outputs: Tensor[];
          if (batcher) {
            outputs = await batcher.submit(request.inputs, fetched, { ticket, inbound: arrival.others });
          } else {
            checkTurn(ticket);
            outputs = await session.run(request.inputs, fetched);
            // A model without a batch dimension runs one inference a request, as Triton counts it.
            const rows = hasBatchDimension(session) ? (request.inputs[0]?.shape[0] ?? 1) : 1;
            noteHeap(name, version, rows);
            this.observer.execution(name, version, rows, performance.now() - started);
            if (signal?.aborted) throw answerDropped();
          }
          return { outputs, inputs: request.inputs, fetched, runMs: performance.now() - started, loadMs };
        } catch (e) {
          if (e instanceof OrtHeapError) throw heapExhausted(`model '${target.snapshot.name}' version ${target.entry.version} on this input`, e, "Send fewer rows or smaller inputs.");
          if (!(e instanceof OrtError)) throw e;
          throw invalid(`model '${target.snapshot.name}' could not run on this input: ${e.message}`);
        }
      } finally {
        lease.release();
      }
    } finally {
      arrival.done();
    }
  }

  /**
   * Runs `entry` on a request another version already answered, for shadow traffic: the same
   * inputs and outputs. Throws when the shadow cannot load or does not fit the request.
   */
  async mirror(model: string, entry: VersionEntry, primary: InferResult): Promise<{ outputs: Tensor[]; runMs: number }> {
    const lease = await this.leaseEntry(model, entry);
    try {
      checkInputs(lease.session.inputs, primary.inputs);
      const fetched = selectOutputs(lease.session.outputs, primary.fetched);
      const started = performance.now();
      const outputs = await lease.session.run(primary.inputs, fetched);
      noteHeap(model, entry.version, primary.inputs[0]?.shape[0] ?? 1);
      return { outputs, runMs: performance.now() - started };
    } finally {
      lease.release();
    }
  }

  /** What this isolate knows of the target's session: loaded, loading, failed, or nothing. */
  loadState(target: Target): EntryStatus | undefined {
    const key = keyOf(target);
    return manager.status().find((s) => sessionId(s) === sessionId(key));
  }

  /** What this isolate knows of every session of `model`, with how each was loaded. */
  loadStates(model: string): (EntryStatus & { load?: LoadTiming })[] {
    return manager
      .status()
      .filter((s) => s.model === model)
      .map((s) => {
        const load = loadTimings.get(sessionId(s));
        return load ? { ...s, load } : s;
      });
  }

  /** Loads a version into this isolate (if it is not already), reporting ORT's reason if it cannot. */
  async warm(model: string, entry: VersionEntry): Promise<{ inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }> {
    const lease = await this.leaseEntry(model, entry);
    lease.release();
    return { inputs: lease.session.inputs, outputs: lease.session.outputs };
  }

  /** This isolate's batching counters for a session, and its queue's length now, when it has a batcher. */
  batchStats(model: string, entry: VersionEntry): (Batcher["stats"] & { queued: number }) | undefined {
    const lease = manager.peek(sessionKey(model, entry));
    const batcher = lease ? batcherOf(lease) : undefined;
    return batcher ? { ...batcher.stats, queued: batcher.queued } : undefined;
  }

  /** This isolate's memory: ORT's heap, the sessions' estimated bytes and budget, every session. */
  isolate() {
    return {
      onnxruntime: runtimeStatus(),
      wasm_heap_bytes: wasmHeapBytes(),
      wasm_heap_max_bytes: wasmHeapMaxBytes(),
      sessions_estimated_bytes: manager.usedBytes,
      sessions_budget_bytes: this.settings.maxSessionBytes,
      sessions: manager.status(),
      heap_growth: heapGrowth(),
    };
  }

  /** Hands a session validated by a publish (built with `options`) to this isolate's cache. */
  adopt(model: string, entry: VersionEntry, session: LoadedSession, options: string): void {
    manager.adopt(keyWith(model, entry, options), estimateSessionBytes(entry.size), session);
  }
}
