/**
 * @module serving/service: what the protocol frontends call. Resolves a request to a version,
 * leases its session from the isolate's manager (loading it from R2 on first use) and runs it.
 * Built per request over the isolate's ServingState: cheap, and never changes that state's settings.
 */
import { notFound } from "../errors";
import type { Tensor } from "../tensor/tensor";
import type { LoadedSession, TensorSpec } from "./loader";
import type { EntryStatus, Lease } from "./manager";
import { BytesCache } from "./bytes-cache";
import { ModelRepository, type ModelSnapshot, type VersionEntry } from "./repository";
import { resolveVersion, type VersionSelector } from "./router";
import type { Batcher } from "./batcher";
import type { LabelsSource } from "./class-labels";
import type { CacheDirectives } from "./cached-answer";
import { runInference, type Decoder, type InferResult, type Leased, type Target } from "./inference";
import { unobserved, type ServingObserver } from "./observer";
import { ResponseCache } from "./response-cache";
import { estimateSessionBytes, keyWith, type ServingState } from "./serving-state";
import { batchStats, isolateStatus, loadState, loadStates } from "./status-views";
import { loadVersion, type LoadTiming } from "./version-loader";
import { runWarmup, type WarmupDone } from "./warmup";
import { checkInputs, selectOutputs } from "./signature";
import type { ModelConfig } from "./config";

export type { CacheDirectives, CacheOutcome } from "./cached-answer";
export type { DecodedRequest, InferResult, Leased, Target } from "./inference";
export type { ServingObserver } from "./observer";

/** The serving core for one request. Cheap to construct. */
export class ModelService {
  private readonly repository: ModelRepository;
  private readonly responses: ResponseCache;

  /**
   * `defer` runs work after the response is sent (the request's waitUntil); without one, such
   * work just runs unawaited.
   */
  constructor(
    private readonly state: ServingState,
    bucket: R2Bucket,
    private readonly defer: (work: Promise<unknown>) => void = () => undefined,
    /** Told of every cold load (and failed one) and every run, for statistics. */
    private readonly observer: ServingObserver = unobserved,
  ) {
    this.repository = new ModelRepository(bucket, BytesCache.open(state.settings.bytesCache, defer));
    this.responses = ResponseCache.open(state.responses, defer);
  }

  /** The repository, for the admin operations. */
  get models(): ModelRepository {
    return this.repository;
  }

  /** The repository's labels files, through the isolate's cache of parsed ones. */
  get labels(): LabelsSource {
    return { repo: this.repository, cache: this.state.labels };
  }

  /** Forgets this isolate's view of a model, so the next request lists R2 again (after an admin write). */
  forget(model: string): void {
    this.state.snapshots.delete(model);
  }

  /** The model as the repository has it (cached for the refresh interval); 404 when it has no version. */
  async snapshot(model: string): Promise<ModelSnapshot> {
    const snapshot = await this.state.snapshots.get(model, this.state.settings.refreshMs, () =>
      this.shared(
        this.repository.snapshot(model).then((s) => {
          this.state.listed(model, s);
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
    const snapshot = this.state.availability.choose(latest, (entries) => {
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
   * and loaded: a bad rollout leaves the previous version serving rather than failing every
   * request. Returns the lease and the version it is of.
   */
  async lease(target: Target): Promise<Leased> {
    const name = target.snapshot.name;
    const { availability } = this.state;
    try {
      const lease = await this.leaseEntry(name, target.entry);
      if (target.routed) availability.served(name, target.entry.version);
      return { lease, entry: target.entry };
    } catch (e) {
      const fallback = target.routed ? availability.fallback(target.snapshot, target.entry.version) : undefined;
      if (!fallback) throw e;
      console.warn(JSON.stringify({ level: "warn", event: "fallback", model: name, failed: target.entry.version, serving: fallback.version, error: e instanceof Error ? e.message : String(e) }));
      return { lease: await this.leaseEntry(name, fallback), entry: fallback };
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
    const key = this.state.sessionKey(name, entry);
    return this.state.manager.acquire(key, estimateSessionBytes(entry.size), () => this.shared(loadVersion(this.state, this.repository, this.observer, key, entry)));
  }

  /** The target's inputs and outputs, from the loaded model, and the version they are of (see `lease`). */
  async signature(target: Target): Promise<{ inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[]; entry: VersionEntry }> {
    const { lease, entry } = await this.lease(target);
    lease.release();
    return { inputs: lease.session.inputs, outputs: lease.session.outputs, entry };
  }

  /**
   * Runs the target on a request, returning the `outputs` asked for (all by default) and the
   * version that answered. `read` reads the request's body and gives the decoder that turns it
   * into tensors once the model's inputs are known. From the start until the request is decoded
   * it counts as on its way to the version's batcher, which waits for such requests rather than
   * a fixed delay.
   */
  infer(
    target: Target,
    read: () => Promise<Decoder>,
    directives: CacheDirectives = { lookup: true, store: true },
    /** Aborts when the client goes away: a request not yet run is then never run (serving/schedule). */
    signal?: AbortSignal,
  ): Promise<InferResult> {
    const context = { state: this.state, responses: this.responses, observer: this.observer, lease: (t: Target) => this.lease(t) };
    return runInference(context, target, read, directives, signal);
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
      this.state.heap.note(model, entry.version, primary.inputs[0]?.shape[0] ?? 1);
      return { outputs, runMs: performance.now() - started };
    } finally {
      lease.release();
    }
  }

  /** What this isolate knows of the target's session: loaded, loading, failed, or nothing. */
  loadState(target: Target): EntryStatus | undefined {
    return loadState(this.state, target.snapshot.name, target.entry);
  }

  /** What this isolate knows of every session of `model`, with how each was loaded. */
  loadStates(model: string): (EntryStatus & { load?: LoadTiming })[] {
    return loadStates(this.state, model);
  }

  /** Loads a version into this isolate (if it is not already), reporting ORT's reason if it cannot. */
  async warm(model: string, entry: VersionEntry): Promise<{ inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }> {
    const lease = await this.leaseEntry(model, entry);
    lease.release();
    return { inputs: lease.session.inputs, outputs: lease.session.outputs };
  }

  /** This isolate's batching counters for a session, and its queue's length now, when it has a batcher. */
  batchStats(model: string, entry: VersionEntry): (Batcher["stats"] & { queued: number }) | undefined {
    return batchStats(this.state, model, entry);
  }

  /** This isolate's memory: ORT's heap, the sessions' estimated bytes and budget, every session. */
  isolate() {
    return isolateStatus(this.state);
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

  /** After a session was created outside the manager (a publish validating its bytes): its heap is a load's. */
  noteSessionCreated(model: string, version: number): void {
    this.state.heap.note(model, version, null);
  }

  /** Hands a session validated by a publish (built with `options`) to this isolate's cache. */
  adopt(model: string, entry: VersionEntry, session: LoadedSession, options: string): void {
    this.state.manager.adopt(keyWith(model, entry, options), estimateSessionBytes(entry.size), session);
  }
}
