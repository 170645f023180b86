/**
 * @module isolate-core: everything an isolate keeps between requests, in one object built once
 * from its settings: the serving state (sessions, listings, availability, cached answers and
 * labels, the heap's growth), the memory for request bodies, the rate limit's leases and waiting
 * asks, the key cache, and the statistics not yet flushed. Handlers reach it as `c.var.core`.
 * Outside it stay onnxruntime's own state (serving/loader), which is the isolate's and not a
 * core's, and the settings' parse memo.
 */
import type { MiddlewareHandler } from "hono";
import { KeyCache } from "./auth/api-keys";
import { MemoryBudget } from "./byte-budget";
import { deferrer } from "./defer";
import type { AppEnv } from "./env";
import { IsolateStats } from "./monitoring/stats-flush";
import { AdmissionQueue } from "./ratelimit/admission-queue";
import { LeaseBook } from "./ratelimit/lease";
import { ModelService } from "./serving/service";
import { ServingState, servingSettingsOf } from "./serving/serving-state";
import { settings, type Settings } from "./settings";

/** What one isolate keeps. A test may build as many as it likes; the Worker has one (`isolateCore`). */
export class IsolateCore {
  readonly serving: ServingState;
  /** The isolate's memory for request bodies in flight (byte-budget; sizes from http/memory-budget). */
  readonly bodies = new MemoryBudget();
  /** Tokens leased to this isolate by tenant, key and model, and the asks of tenants' objects under way. */
  readonly admission: { leases: LeaseBook; queue: AdmissionQueue };
  /** API key lookups and hashes. */
  readonly keys = new KeyCache();
  /** Request statistics waiting to be flushed. */
  readonly stats = new IsolateStats();

  constructor(readonly settings: Settings) {
    this.serving = new ServingState(servingSettingsOf(settings));
    const leases = new LeaseBook();
    this.admission = { leases, queue: new AdmissionQueue(leases) };
  }

  /** The serving core for one request: `defer` runs work after its response (its waitUntil). */
  service(bucket: R2Bucket, defer?: (work: Promise<unknown>) => void): ModelService {
    return new ModelService(this.serving, bucket, defer, this.stats.buffer);
  }
}

// The isolate's one core, made by its first request.
let core: IsolateCore | undefined;

/** The isolate's core, built from the first env's settings; every env's settings are checked (a bad value throws). */
export function isolateCore(env: object): IsolateCore {
  const parsed = settings(env);
  return (core ??= new IsolateCore(parsed));
}

/** Sets `core` and the request's `service` on every request; the first middleware, so all later ones have them. */
export function withIsolateCore(): MiddlewareHandler<AppEnv> {
  return function isolateCoreHandler(c, next) {
    const core = isolateCore(c.env);
    c.set("core", core);
    c.set("service", core.service(c.env.MODELS, deferrer(c)));
    return next();
  };
}
