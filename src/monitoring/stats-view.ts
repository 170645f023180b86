/**
 * @module monitoring/stats-view: a model's recorded statistics as KServe/Triton-style JSON
 * (`GET /v2/models/{m}[/versions/{v}]/stats`) and as Prometheus text (`GET /metrics`). Pure.
 */
import { BUCKETS_MS, emptyHistogram, isClientSide, merge, quantile, type CacheDelta, type ExecutionDelta, type Histogram } from "./histogram";
import type { LoadRow, RequestRow } from "./stats-store/requests";

const percentiles = (h: Histogram) => ({ p50: quantile(h, 0.5), p90: quantile(h, 0.9), p99: quantile(h, 0.99) });

/**
 * Inferences (rows) and executions (runs) of one version, as Triton counts them: a request of 3
 * rows is 3 inferences; 8 requests run as one dynamic batch are 1 execution. Versions recorded
 * before executions were kept count one of each per successful request.
 */
function executionsOf(executions: readonly ExecutionDelta[], version: number, successes: number) {
  const mine = executions.filter((e) => e.version === version);
  if (mine.length === 0) return { inferences: successes, executions: successes, batch_stats: [] };
  return {
    ...totals(mine),
    batch_stats: mine.map((e) => ({ batch_size: e.batch_size, compute_infer: { count: e.count, ns: Math.round(e.ms * 1e6) } })),
  };
}

/** Rows inferred and runs made, over some executions. */
function totals(executions: readonly ExecutionDelta[]): { inferences: number; executions: number } {
  let inferences = 0;
  let runs = 0;
  for (const e of executions) {
    inferences += e.batch_size * e.count;
    runs += e.count;
  }
  return { inferences, executions: runs };
}

/**
 * A version's response cache lookups as Triton reports them: `cache_hit` and `cache_miss` duration
 * statistics in `inference_stats`, and their counts as `cache_hit_count` and `cache_miss_count`.
 */
function cacheOf(cache: readonly CacheDelta[], version: number) {
  const c = cache.find((x) => x.version === version);
  const hits = c?.hits ?? 0;
  const misses = c?.misses ?? 0;
  return {
    counts: { cache_hit_count: hits, cache_miss_count: misses },
    stats: { cache_hit: { count: hits, ns: Math.round((c?.hit_ms ?? 0) * 1e6) }, cache_miss: { count: misses, ns: Math.round((c?.miss_ms ?? 0) * 1e6) } },
  };
}

/**
 * Triton's `model_stats` entries (inference and execution counts, success/fail with total ns,
 * batch_stats) with this service's additions: outcomes, latency and inference-time percentiles
 * and histograms, loads. Tenants are summed: one tenant's stats route never shows another's
 * traffic.
 */
export function modelStatsJson(model: string, rows: RequestRow[], loads: LoadRow[], version?: number, executions: readonly ExecutionDelta[] = [], cache: readonly CacheDelta[] = []) {
  const versions = [...new Set([...rows.map((r) => r.version), ...loads.map((l) => l.version), ...executions.map((e) => e.version), ...cache.map((c) => c.version)])]
    .filter((v) => version === undefined || v === version)
    .sort((a, b) => a - b);
  return {
    model_stats: versions.map((v) => {
      const mine = rows.filter((r) => r.version === v);
      const latency = emptyHistogram();
      const inference = emptyHistogram();
      const failed = emptyHistogram();
      const outcomes: Record<string, number> = {};
      for (const r of mine) {
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + r.count;
        // A client that went away or was too slow says nothing of the model: counted in outcomes, not in failures or latency.
        if (isClientSide(r.outcome)) continue;
        merge(latency, r.latency);
        merge(inference, r.inference);
        if (r.outcome !== "success") merge(failed, r.latency);
      }
      const success = (outcomes.success ?? 0);
      const load = loads.find((l) => l.version === v);
      const last = mine.map((r) => r.last_at).sort().at(-1) ?? null;
      const runs = executionsOf(executions, v, success);
      const cached = cacheOf(cache, v);
      return {
        name: model,
        version: String(v),
        last_inference: last ? Date.parse(last) : 0,
        inference_count: runs.inferences,
        execution_count: runs.executions,
        ...cached.counts,
        inference_stats: {
          success: { count: success, ns: Math.round((latency.sum - failed.sum) * 1e6) },
          fail: { count: latency.count - success, ns: Math.round(failed.sum * 1e6) },
          ...cached.stats,
        },
        outcomes,
        latency_ms: { ...percentiles(latency), histogram: bucketsOf(latency) },
        inference_ms: { ...percentiles(inference), histogram: bucketsOf(inference) },
        batch_stats: runs.batch_stats,
        loads: { cold: load?.cold ?? 0, failed: load?.failed ?? 0 },
      };
    }),
  };
}

function bucketsOf(h: Histogram) {
  return { le_ms: [...BUCKETS_MS, "+Inf"], counts: h.counts, sum_ms: Math.round(h.sum * 100) / 100, count: h.count };
}

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (l: Record<string, string | number>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escape(String(v))}"`)
    .join(",")}}`;

/** Prometheus text exposition (version 0.0.4) of every model's statistics. */
export function prometheusText(models: { model: string; rows: RequestRow[]; loads: LoadRow[]; executions?: readonly ExecutionDelta[]; cache?: readonly CacheDelta[] }[]): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family("edge_inference_requests_total", "counter", "Prediction requests by model, version, tenant and outcome.");
  for (const { model, rows } of models) {
    for (const r of rows) out.push(`edge_inference_requests_total${labels({ model, version: r.version, tenant: r.tenant, outcome: r.outcome })} ${r.count}`);
  }
  const histogram = (name: string, help: string, pick: (r: RequestRow) => Histogram) => {
    family(name, "histogram", help);
    for (const { model, rows } of models) {
      for (const v of [...new Set(rows.map((r) => r.version))]) {
        const h = emptyHistogram();
        for (const r of rows.filter((x) => x.version === v)) merge(h, pick(r));
        let cumulative = 0;
        BUCKETS_MS.forEach((le, i) => {
          cumulative += h.counts[i]!;
          out.push(`${name}_bucket${labels({ model, version: v, le: le / 1000 })} ${cumulative}`);
        });
        out.push(`${name}_bucket${labels({ model, version: v, le: "+Inf" })} ${h.count}`);
        out.push(`${name}_sum${labels({ model, version: v })} ${h.sum / 1000}`);
        out.push(`${name}_count${labels({ model, version: v })} ${h.count}`);
      }
    }
  };
  histogram("edge_inference_request_duration_seconds", "Prediction request time in the Worker (its clock advances only across I/O).", (r) => r.latency);
  histogram("edge_inference_inference_duration_seconds", "Time in onnxruntime's run, as the Worker's clock sees it.", (r) => r.inference);
  const counter = (name: string, help: string, which: keyof ReturnType<typeof totals>) => {
    family(name, "counter", help);
    for (const { model, executions = [] } of models) {
      for (const v of [...new Set(executions.map((e) => e.version))]) {
        out.push(`${name}${labels({ model, version: v })} ${totals(executions.filter((e) => e.version === v))[which]}`);
      }
    }
  };
  counter("edge_inference_inferences_total", "Rows inferred by model and version: a request of 3 rows counts 3 (Triton's inference_count).", "inferences");
  counter("edge_inference_executions_total", "Model runs by model and version: a dynamic batch of requests counts 1 (Triton's execution_count).", "executions");
  family("edge_inference_model_loads_total", "counter", "Cold loads of a model version, by result.");
  for (const { model, loads } of models) {
    for (const l of loads) {
      out.push(`edge_inference_model_loads_total${labels({ model, version: l.version, result: "loaded" })} ${l.cold}`);
      out.push(`edge_inference_model_loads_total${labels({ model, version: l.version, result: "failed" })} ${l.failed}`);
    }
  }
  for (const [name, help, pick] of [
    ["edge_inference_cache_hits_total", "Predictions answered from the response cache, by model and version (Triton's cache_hit_count).", (c: CacheDelta) => c.hits],
    ["edge_inference_cache_misses_total", "Response cache lookups that found no answer, by model and version (Triton's cache_miss_count).", (c: CacheDelta) => c.misses],
  ] as const) {
    family(name, "counter", help);
    for (const { model, cache = [] } of models) for (const c of cache) out.push(`${name}${labels({ model, version: c.version })} ${pick(c)}`);
  }
  return `${out.join("\n")}\n`;
}
