/**
 * @module monitoring/stats-buffer: the isolate's request statistics since its last flush, by
 * model. Requests add to it in memory; a flush, after a response (waitUntil), sends each model's
 * deltas to that model's statistics object, so the prediction path never waits on it. A failed
 * flush keeps the deltas for the next one.
 */
import type { Tensor } from "../tensor/tensor";
import { emptySummary, mergeSummary, summarise, type DriftDelta } from "./drift";
import { emptyHistogram, merge, observe, type CacheDelta, type ExecutionDelta, type LoadDelta, type Outcome, type RequestDelta } from "./histogram";

/** One model's deltas, as taken for a flush. */
export interface TakenDeltas {
  requests: RequestDelta[];
  loads: LoadDelta[];
  drift: DriftDelta[];
  executions: ExecutionDelta[];
  cache: CacheDelta[];
}

interface ModelDeltas {
  requests: Map<string, RequestDelta>;
  loads: Map<number, LoadDelta>;
  drift: Map<string, DriftDelta>;
  executions: Map<string, ExecutionDelta>;
  cache: Map<number, CacheDelta>;
}

/** Request statistics waiting to be flushed (one buffer per isolate core). */
export class StatsBuffer {
  private models = new Map<string, ModelDeltas>();
  private lastFlush = 0;

  /** True when nothing waits to be flushed. */
  get empty(): boolean {
    return this.models.size === 0;
  }

  private model(name: string): ModelDeltas {
    let m = this.models.get(name);
    if (!m) this.models.set(name, (m = { requests: new Map(), loads: new Map(), drift: new Map(), executions: new Map(), cache: new Map() }));
    return m;
  }

  /** Counts one request that a model's version answered (or refused). */
  request(model: string, version: number, tenant: string, outcome: Outcome, latencyMs: number, inferenceMs: number | null): void {
    const key = `${version}\u0000${tenant}\u0000${outcome}`;
    const requests = this.model(model).requests;
    let d = requests.get(key);
    if (!d) requests.set(key, (d = { version, tenant, outcome, count: 0, latency: emptyHistogram(), inference: emptyHistogram() }));
    d.count++;
    observe(d.latency, latencyMs);
    if (inferenceMs !== null) observe(d.inference, inferenceMs);
  }

  /** Summarises what a prediction was sent and answered, tensor by tensor, for drift. */
  tensors(model: string, version: number, inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
    const drift = this.model(model).drift;
    for (const [role, tensors] of [["input", inputs], ["output", outputs]] as const) {
      for (const t of tensors) {
        const key = `${version}\u0000${role}\u0000${t.name}`;
        let d = drift.get(key);
        if (!d) drift.set(key, (d = { version, tensor: t.name, role, summary: emptySummary() }));
        summarise(d.summary, t);
      }
    }
  }

  /** Counts one successful run of a version on `batchSize` rows (a dynamic batch, or one request). */
  execution(model: string, version: number, batchSize: number, ms: number): void {
    this.addExecution(this.model(model), { version, batch_size: batchSize, count: 1, ms });
  }

  private addExecution(m: ModelDeltas, e: ExecutionDelta): void {
    const key = `${e.version}\u0000${e.batch_size}`;
    const d = m.executions.get(key);
    if (!d) m.executions.set(key, { ...e });
    else {
      d.count += e.count;
      d.ms += e.ms;
    }
  }

  /** Counts a response cache lookup of a version: a hit or a miss, and how long it took. */
  cache(model: string, version: number, hit: boolean, ms: number): void {
    this.addCache(this.model(model), { version, hits: hit ? 1 : 0, misses: hit ? 0 : 1, hit_ms: hit ? ms : 0, miss_ms: hit ? 0 : ms });
  }

  private addCache(m: ModelDeltas, c: CacheDelta): void {
    const d = m.cache.get(c.version);
    if (!d) m.cache.set(c.version, { ...c });
    else {
      d.hits += c.hits;
      d.misses += c.misses;
      d.hit_ms += c.hit_ms;
      d.miss_ms += c.miss_ms;
    }
  }

  /** Counts a cold load of a version, or a failed one. */
  load(model: string, version: number, failed: boolean): void {
    const loads = this.model(model).loads;
    let d = loads.get(version);
    if (!d) loads.set(version, (d = { version, cold: 0, failed: 0 }));
    if (failed) d.failed++;
    else d.cold++;
  }

  /**
   * Takes everything buffered if at least `intervalMs` passed since the last take (and there is
   * something), else null. `putBack` returns a take whose flush failed.
   */
  take(nowMs: number, intervalMs: number): Map<string, TakenDeltas> | null {
    if (this.models.size === 0 || nowMs - this.lastFlush < intervalMs) return null;
    this.lastFlush = nowMs;
    const taken = new Map([...this.models].map(([name, m]) => [name, { requests: [...m.requests.values()], loads: [...m.loads.values()], drift: [...m.drift.values()], executions: [...m.executions.values()], cache: [...m.cache.values()] }]));
    this.models = new Map();
    return taken;
  }

  /** Puts a failed flush's deltas back (merged with what arrived meanwhile). */
  putBack(model: string, deltas: TakenDeltas): void {
    const m = this.model(model);
    for (const r of deltas.requests) {
      const key = `${r.version}\u0000${r.tenant}\u0000${r.outcome}`;
      const d = m.requests.get(key);
      if (!d) m.requests.set(key, r);
      else {
        d.count += r.count;
        merge(d.latency, r.latency);
        merge(d.inference, r.inference);
      }
    }
    for (const d of deltas.drift) {
      const key = `${d.version}\u0000${d.role}\u0000${d.tensor}`;
      const mine = m.drift.get(key);
      if (!mine) m.drift.set(key, d);
      else mergeSummary(mine.summary, d.summary);
    }
    for (const e of deltas.executions) this.addExecution(m, e);
    for (const c of deltas.cache) this.addCache(m, c);
    for (const l of deltas.loads) {
      const d = m.loads.get(l.version);
      if (!d) m.loads.set(l.version, l);
      else {
        d.cold += l.cold;
        d.failed += l.failed;
      }
    }
  }
}
