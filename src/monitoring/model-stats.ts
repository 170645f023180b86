/**
 * @module monitoring/model-stats: one Durable Object per model (SQLite-backed, RPC methods) that
 * aggregates what isolates observe of it across the whole deployment. A thin facade: each kind of
 * figure has its tables and queries in stats-store/ (requests, minutes, drift, alerts, shadow, cache).
 * Isolates call it after the response (waitUntil), batched.
 */
import { DurableObject } from "cloudflare:workers";
import type { ShadowSample } from "../serving/shadow";
import { parseModelConfig, type ModelConfig } from "../serving/config";
import type { DriftDelta } from "./drift";
import type { CacheDelta, ExecutionDelta, LoadDelta, RequestDelta } from "./histogram";
import { migrate, type Schema } from "../storage/migrations";
import { CACHE_SCHEMA, cacheStats, recordCache } from "./stats-store/cache";
import { deliverAlerts } from "./stats-store/alert-delivery";
import { ALERTS_SCHEMA, alertStates, evaluateAlerts } from "./stats-store/alerts";
import { DRIFT_SCHEMA, driftReport, pinDriftBaseline, recordDrift } from "./stats-store/drift";
import { MINUTES_SCHEMA, minuteSeries, recordMinutes, windowFigures } from "./stats-store/minutes";
import { recordExecutions, recordLoads, recordRequests, REQUESTS_SCHEMA, requestStats } from "./stats-store/requests";
import { recordShadow, resetShadow, SHADOW_SCHEMA, shadowStats } from "./stats-store/shadow";

export type { LoadRow, RequestRow } from "./stats-store/requests";
export type { ShadowPairStats } from "./stats-store/shadow";

/** Every stats-store module's tables, each with its own migrations (storage/migrations). */
export const MODEL_STATS_SCHEMAS: readonly Schema[] = [SHADOW_SCHEMA, REQUESTS_SCHEMA, DRIFT_SCHEMA, MINUTES_SCHEMA, ALERTS_SCHEMA, CACHE_SCHEMA];

/** What an isolate sends of one model after responses, batched. */
export interface StatsBatch {
  /** The model's name, to read its alert rules by; without it no rule is checked. */
  model?: string;
  requests: RequestDelta[];
  loads: LoadDelta[];
  drift?: DriftDelta[];
  executions?: ExecutionDelta[];
  /** Response cache lookups (models with `response_cache`). */
  cache?: CacheDelta[];
}

/** How long the object trusts the model's config (its alert rules) before reading R2 again. */
const CONFIG_TTL_MS = 10_000;

/** The Durable Object class bound as MODEL_STATS. Its name is the model's name. */
export class ModelStats extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private configCache?: { model: string; at: number; config: ModelConfig };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, MODEL_STATS_SCHEMAS);
  }

  /** Adds an isolate's request, load, drift and execution deltas, then checks the model's alert rules. */
  async recordRequests({ model, requests, loads, drift = [], executions = [], cache = [] }: StatsBatch): Promise<void> {
    const nowMs = Date.now();
    recordMinutes(this.sql, requests, nowMs);
    recordDrift(this.sql, drift, nowMs);
    const now = new Date().toISOString();
    recordRequests(this.sql, requests, now);
    recordExecutions(this.sql, executions);
    recordLoads(this.sql, loads, now);
    recordCache(this.sql, cache);
    if (model) await this.checkAlerts(model);
  }

  /** Everything recorded of requests, loads, executions and response cache lookups, every version. */
  requestStats() {
    return { ...requestStats(this.sql), cache: cacheStats(this.sql) };
  }

  /**
   * The per-minute figures the alert windows read (kept a day), from `minutes` ago on, per version:
   * requests, errors (rate-limit refusals aside) and the latency histogram of each minute.
   */
  minuteSeries(minutes: number) {
    return minuteSeries(this.sql, minutes, Date.now());
  }

  /** Pins `version`'s kept windows as its drift baseline; returns how many tensors it covers. */
  pinDriftBaseline(version: number): number {
    return pinDriftBaseline(this.sql, version);
  }

  /** Per version and tensor: the baseline, the last `hours` hourly windows, and the drift between them. */
  driftReport(hours = 24) {
    return driftReport(this.sql, hours, Date.now());
  }

  private async config(model: string): Promise<ModelConfig> {
    const now = Date.now();
    if (this.configCache?.model === model && now - this.configCache.at < CONFIG_TTL_MS) return this.configCache.config;
    const text = await (await this.env.MODELS.get(`${model}/config.json`))?.text();
    const parsed = text === undefined ? { config: {} } : parseModelConfig(text);
    const config = "config" in parsed ? parsed.config : {};
    this.configCache = { model, at: now, config };
    return config;
  }

  /** Evaluates the model's alert rules, then sends the webhooks that are due. */
  private async checkAlerts(model: string): Promise<void> {
    const alerts = (await this.config(model)).alerts;
    if (!alerts) return;
    evaluateAlerts(this.sql, model, alerts, {
      window: (seconds) => windowFigures(this.sql, seconds, Date.now()),
      drift: (hours) => driftReport(this.sql, hours, Date.now()),
    });
    await deliverAlerts(this.sql, this.ctx.storage);
  }

  /** Retries webhooks that failed. */
  override async alarm(): Promise<void> {
    await deliverAlerts(this.sql, this.ctx.storage);
  }

  /** Each rule's state: ok or firing, its last value, and its webhook's delivery. */
  alertStates() {
    return alertStates(this.sql);
  }

  /** Adds mirrored requests (an isolate may send several at once). */
  recordShadow(samples: ShadowSample[]): void {
    recordShadow(this.sql, samples);
  }

  /** Every pair's figures, by primary then shadow version. */
  shadowStats() {
    return shadowStats(this.sql);
  }

  /** Forgets the shadow figures (an operator starting a fresh comparison). */
  resetShadow(): number {
    return resetShadow(this.sql);
  }
}
