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
import { configureResponseCache, ResponseCache, responseCacheStatus, type CacheTier, type ResponseKey } from "./response-cache";
import { requestHash } from "./response-key";
import { runWarmup, WarmupError, type WarmupDone } from "./warmup";
import type { ModelConfig } from "./config";
import { TtlCache } from "../ttl-cache";
import { settings } from "../settings";

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
  /** Estimated bytes of cached answers the isolate keeps (models with `response_cache`). */
  responseCacheBytes: number;
}

/** ServingSettings from the environment's settings (src/settings.ts); a bad value throws. */
export function servingSettings(env: object): ServingSettings {
  const s = settings(env);
  return {
    refreshMs: s.MODEL_REFRESH_SECONDS * 1000,
    maxSessionBytes: s.MODEL_CACHE_MAX_BYTES,
    bytesCache: s.MODEL_BYTES_CACHE === "on",
    heapMaxBytes: s.ORT_HEAP_MAX_BYTES,
    responseCacheBytes: s.RESPONSE_CACHE_MAX_BYTES,
  };
}

/** The settings' defaults, until a request brings its env's. */
const DEFAULTS = servingSettings({});

/**
 * A session's footprint in ORT's heap, estimated from the file: the weights are copied in, and
 * the graph, arena and kernels need room beside them.
 */
export const estimateSessionBytes = (fileBytes: number): number => 2 * fileBytes + 1024 * 1024;

// Isolate-wide state: survives between requests in one isolate, never shared between isolates.
const snapshots = new TtlCache<ModelSnapshot | null>();
const manager = new ModelManager({
  maxBytes: DEFAULTS.maxSessionBytes,
  failureTtlMs: DEFAULTS.refreshMs,
  // Bytes ORT rejected stay rejected: remember that. An R2 hiccup or a full heap is retried by the next request.
  // A failed warm-up too: it fails again on the same session, and costs a whole load to find out.
  remembers: (e) => e instanceof ServingError && (e.cause instanceof OrtError || e.cause instanceof WarmupError) && !(e.cause instanceof OrtHeapError),
});
/** Each model's config as last listed, for the warm-up its sessions run when loaded. */
const configByModel = new Map<string, ModelConfig>();
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
  /** How long the load waited, its bytes read, for onnxruntime's start (begun as the isolate started). */
  runtime_wait_ms: number;
  create_ms: number;
  /** The model's warm-up runs before the session was ready (model_warmup), and their time. */
  warmup_runs: number;
  warmup_ms: number;
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
  /** For a model with `response_cache`: what the cache did (absent for other models). */
  cache?: CacheOutcome;
}

/**
 * What the response cache did for a request: answered it (`hit`), or let it run after a lookup
 * (`miss`) or without one (`request`: the request asked so), and whether its answer was kept.
 */
export type CacheOutcome =
  | { lookup: "hit"; tier: CacheTier; ttlSeconds: number; ms: number }
  | { lookup: "miss" | "request"; stored: boolean; ms: number };

/** A response cache lookup: the key to keep the answer under, and the cached outputs on a hit. */
type CacheLookup =
  | { key: ResponseKey; hit: Tensor[]; outcome: Extract<CacheOutcome, { lookup: "hit" }> }
  | { key: ResponseKey; hit?: undefined; outcome: Extract<CacheOutcome, { lookup: "miss" | "request" }> };

/** A request's cache directives: whether a cached answer may be used, and whether its own may be kept. */
export interface CacheDirectives {
  lookup: boolean;
  store: boolean;
  /** The caller's tenant, whose answers are kept apart from other tenants' unless the model's config shares them. */
  tenant?: string;
}

/** What a request's decoder gives: its tensors, the outputs it asks for, and their parameters. */
export interface DecodedRequest {
  inputs: Tensor[];
  /** Names of the outputs asked for; undefined means all. */
  outputs?: readonly string[];
  /** Each requested output's parameters, by name, as sent. */
  outputParameters?: Readonly<Record<string, Record<string, unknown>>>;
  /** The request's deadline and priority, as it asked (serving/schedule). */
  schedule?: ScheduleRequest;
}

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
  /** A response cache lookup for a version, and whether it found the answer. */
  cache?(model: string, version: number, hit: boolean, ms: number): void;
}

const unobserved: ServingObserver = { load: () => undefined, execution: () => undefined };

/** The serving core for one request. Cheap to construct. */
export class ModelService {
  private readonly repository: ModelRepository;
  private readonly responses: ResponseCache;

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
    this.responses = ResponseCache.open(defer);
    configureResponseCache(settings.responseCacheBytes);
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
          if (s) configByModel.set(model, s.config);
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
    await startRuntime();
    const runtimeAt = performance.now();
    try {
      const session = await loadSession(read.bytes, tuningOf(key.options ?? ""));
      const createdAt = performance.now();
      const warmup = await warmUp(session, configByModel.get(name));
      const timing = { source: read.source, read_ms: round(readAt - started), runtime_wait_ms: round(runtimeAt - readAt), create_ms: round(createdAt - runtimeAt), warmup_runs: warmup.runs, warmup_ms: warmup.ms, at: new Date().toISOString() };
      recordLoad(sessionId(key), timing);
      this.observer.load(name, version, false);
      noteHeap(name, version, null);
      console.log(JSON.stringify({ level: "info", event: "model_load", model: name, version, bytes: entry.size, ...timing, wasm_heap_bytes: wasmHeapBytes() }));
      return session;
    } catch (e) {
      this.observer.load(name, version, true);
      if (e instanceof OrtHeapError) throw heapExhausted(`loading model '${name}' version ${version}`, e);
      if (e instanceof WarmupError && e.cause instanceof OrtHeapError) {
        throw heapExhausted(`warming up model '${name}' version ${version}`, e.cause);
      }
      const reason = e instanceof Error ? e.message : String(e);
      throw new ServingError("unavailable", `model '${name}' version ${version} failed to load: ${reason}`, { cause: e });
    }
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
    read: () => Promise<(inputs: readonly TensorSpec[]) => DecodedRequest>,
    directives: CacheDirectives = { lookup: true, store: true },
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
        const caching = target.snapshot.config.response_cache;
        // Still on its way to the batcher while it is looked up: a batch waits for it.
        const cached = caching ? await this.cachedAnswer(target, request, fetched, directives) : undefined;
        const ticket = ticketFor(request.schedule ?? {}, target.snapshot.config.dynamic_batching, arrived, signal);
        arrival.done();
        if (cached?.hit) return { outputs: cached.hit, inputs: request.inputs, fetched, runMs: 0, loadMs, cache: cached.outcome };
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
          const runMs = performance.now() - started;
          if (!cached) return { outputs, inputs: request.inputs, fetched, runMs, loadMs };
          const stored = directives.store && this.responses.store(cached.key, outputs, caching!.ttl_seconds);
          return { outputs, inputs: request.inputs, fetched, runMs, loadMs, cache: { ...cached.outcome, stored } };
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
   * Looks a checked request up in the response cache (unless its directives say not to), counting
   * the lookup: the outputs in `fetched`'s order on a hit, and the key to keep the answer under.
   */
  private async cachedAnswer(target: Target, request: DecodedRequest, fetched: readonly string[], directives: CacheDirectives): Promise<CacheLookup> {
    const started = performance.now();
    const outputs = fetched.map((name) => ({ name, parameters: request.outputParameters?.[name] }));
    const tenant = target.snapshot.config.response_cache?.scope === "model" ? "" : (directives.tenant ?? "");
    const key: ResponseKey = { model: target.snapshot.name, version: target.entry.version, etag: target.entry.etag, tenant, hash: await requestHash(request.inputs, outputs) };
    if (!directives.lookup) return { key, outcome: { lookup: "request", stored: false, ms: performance.now() - started } };
    const found = await this.responses.lookup(key);
    const hit = found ? fetched.map((name) => found.outputs.find((t) => t.name === name)) : [];
    const ms = performance.now() - started;
    const usable = found !== null && hit.every((t) => t !== undefined);
    this.observer.cache?.(key.model, key.version, usable, ms);
    if (!usable) return { key, outcome: { lookup: "miss", stored: false, ms } };
    return { key, hit: hit as Tensor[], outcome: { lookup: "hit", tier: found.tier, ttlSeconds: found.ttlSeconds, ms } };
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
      response_cache: responseCacheStatus(),
    };
  }

  /** Runs `config`'s warm-up on the version's session (loading it if need be), as a check of that config. */
  async warmUpWith(model: string, entry: VersionEntry, config: ModelConfig): Promise<WarmupDone> {
    const lease = await this.leaseEntry(model, entry);
    try {
      return await runWarmup(lease.session, config.model_warmup, config.max_batch_size !== undefined);
    } finally {
      lease.release();
    }
  }

  /** Hands a session validated by a publish (built with `options`) to this isolate's cache. */
  adopt(model: string, entry: VersionEntry, session: LoadedSession, options: string): void {
    manager.adopt(keyWith(model, entry, options), estimateSessionBytes(entry.size), session);
  }
}
