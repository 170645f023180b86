/**
 * @module serving/serving-state: what an isolate keeps for serving between requests: the loaded
 * sessions, the listings, each model's config and session options, which versions may serve, how
 * each session was loaded, the requests on their way to a batcher, the heap's growth, cached
 * answers and labels. One per isolate (in its core), built once from the settings; never `env`
 * or a request.
 */
import { ServingError } from "../errors";
import { settings, type Settings } from "../settings";
import { TtlCache } from "../ttl-cache";
import { Availability } from "./availability";
import { batchable } from "./batch-axes";
import { BatcherRegistry } from "./batcher-registry";
import { performanceClock, type Clock } from "./schedule";
import { MAX_CACHED_LABELS_BYTES } from "./class-labels";
import type { ModelConfig } from "./config";
import { HeapWatch } from "./heap-watch";
import { Inbound } from "./inbound";
import { LabelsCache } from "./labels-cache";
import { OrtError, OrtHeapError, setWasmHeapMax, type LoadedSession } from "./loader";
import { ModelManager, sessionId, type SessionKey } from "./manager";
import type { ModelSnapshot, VersionEntry } from "./repository";
import type { IsolateResponses } from "./response-cache";
import { ResponseLru } from "./response-lru";
import { sessionOptionsOf } from "./session-options";
import type { LoadTiming } from "./version-loader";
import { WarmupError } from "./warmup";

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
export const servingSettings = (env: object): ServingSettings => servingSettingsOf(settings(env));

/** ServingSettings from parsed settings. */
export function servingSettingsOf(s: Settings): ServingSettings {
  return {
    refreshMs: s.MODEL_REFRESH_SECONDS * 1000,
    maxSessionBytes: s.MODEL_CACHE_MAX_BYTES,
    bytesCache: s.MODEL_BYTES_CACHE === "on",
    heapMaxBytes: s.ORT_HEAP_MAX_BYTES,
    responseCacheBytes: s.RESPONSE_CACHE_MAX_BYTES,
  };
}

/**
 * A session's footprint in ORT's heap, estimated from the file: the weights are copied in, and
 * the graph, arena and kernels need room beside them.
 */
export const estimateSessionBytes = (fileBytes: number): number => 2 * fileBytes + 1024 * 1024;

/** The isolate's serving state. Every request's ModelService works on the one its isolate has. */
export class ServingState {
  readonly snapshots = new TtlCache<ModelSnapshot | null>();
  readonly manager: ModelManager;
  readonly availability: Availability;
  /** Inference requests on their way to each version's session, for the batchers. */
  readonly inbound = new Inbound();
  /** Each loaded session's batcher. */
  /** The clock deadlines and batching delays are read from; tests replace its `now`. */
  readonly clock: Clock = performanceClock();
  readonly batchers = new BatcherRegistry(this.clock);
  readonly heap = new HeapWatch();
  /** The response cache's isolate tier, bounded by RESPONSE_CACHE_MAX_BYTES. */
  readonly responses: IsolateResponses;
  /** The labels files requests have used lately. */
  readonly labels = new LabelsCache(MAX_CACHED_LABELS_BYTES);
  /** Each model's config as last listed, for the warm-up its sessions run when loaded. */
  private readonly configByModel = new Map<string, ModelConfig>();
  /** Each model's session options, from its config as last listed: part of every session key. */
  private readonly optionsByModel = new Map<string, string>();
  private readonly loadTimings = new Map<string, LoadTiming>();
  /** Whether a session's every input and output has a dynamic first dimension. */
  private readonly batchDimension = new WeakMap<LoadedSession, boolean>();

  constructor(readonly settings: ServingSettings) {
    this.manager = new ModelManager({
      maxBytes: settings.maxSessionBytes,
      failureTtlMs: Math.max(settings.refreshMs, 1000),
      // Bytes ORT rejected stay rejected: remember that. An R2 hiccup or a full heap is retried by the next request.
      // A failed warm-up too: it fails again on the same session, and costs a whole load to find out.
      remembers: (e) => e instanceof ServingError && (e.cause instanceof OrtError || e.cause instanceof WarmupError) && !(e.cause instanceof OrtHeapError),
    });
    this.availability = new Availability((model, e) => this.manager.isReady(this.sessionKey(model, e)));
    this.responses = new ResponseLru(settings.responseCacheBytes);
    // The cap belongs to onnxruntime's one heap, and counts only before ORT starts (serving/startup sets it first).
    setWasmHeapMax(settings.heapMaxBytes);
  }

  /** Keeps what a fresh listing says of a model's config: its session options and warm-up. */
  listed(model: string, snapshot: ModelSnapshot | null): void {
    this.optionsByModel.set(model, sessionOptionsOf(snapshot?.config));
    if (snapshot) this.configByModel.set(model, snapshot.config);
  }

  /** The model's config as last listed. */
  configOf(model: string): ModelConfig | undefined {
    return this.configByModel.get(model);
  }

  /** The key of a version's session, with the options the model's config now asks for. */
  sessionKey(model: string, e: VersionEntry): SessionKey {
    return keyWith(model, e, this.optionsByModel.get(model) ?? "");
  }

  /** Keeps how a session was loaded, dropping the timings of sessions gone once there are many. */
  recordLoad(id: string, timing: LoadTiming): void {
    this.loadTimings.set(id, timing);
    if (this.loadTimings.size > 256) {
      const live = new Set(this.manager.status().map(sessionId));
      for (const key of this.loadTimings.keys()) if (!live.has(key)) this.loadTimings.delete(key);
    }
  }

  /** How the session with this id was loaded, if this isolate loaded it. */
  loadTiming(id: string): LoadTiming | undefined {
    return this.loadTimings.get(id);
  }

  /** Whether a session's every input and output has a dynamic first dimension (memoised per session). */
  hasBatchDimension(session: LoadedSession): boolean {
    let has = this.batchDimension.get(session);
    if (has === undefined) this.batchDimension.set(session, (has = batchable(session.inputs, session.outputs)));
    return has;
  }
}

/** The key of a version's session built with `options` ("" for the defaults). */
export const keyWith = (model: string, e: VersionEntry, options: string): SessionKey =>
  options ? { model, version: e.version, etag: e.etag, options } : { model, version: e.version, etag: e.etag };
