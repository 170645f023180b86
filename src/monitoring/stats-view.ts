/**
 * @module monitoring/stats-view: a model's recorded statistics as KServe/Triton-style JSON
 * (`GET /v2/models/{m}[/versions/{v}]/stats`) and as Prometheus text (`GET /metrics`). Pure.
 */
import { BUCKETS_MS, emptyHistogram, merge, quantile, type Histogram } from "./histogram";
import type { LoadRow, RequestRow } from "./model-stats";

const percentiles = (h: Histogram) => ({ p50: quantile(h, 0.5), p90: quantile(h, 0.9), p99: quantile(h, 0.99) });

/**
 * Triton's `model_stats` entries (counts, success/fail with total ns) with this service's
 * additions: outcomes, latency and inference-time percentiles and histograms, loads. Tenants are
 * summed: one tenant's stats route never shows another's traffic.
 */
export function modelStatsJson(model: string, rows: RequestRow[], loads: LoadRow[], version?: number) {
  const versions = [...new Set([...rows.map((r) => r.version), ...loads.map((l) => l.version)])]
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
        merge(latency, r.latency);
        merge(inference, r.inference);
        if (r.outcome !== "success") merge(failed, r.latency);
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + r.count;
      }
      const success = (outcomes.success ?? 0);
      const load = loads.find((l) => l.version === v);
      const last = mine.map((r) => r.last_at).sort().at(-1) ?? null;
      return {
        name: model,
        version: String(v),
        last_inference: last ? Date.parse(last) : 0,
        inference_count: success,
        execution_count: success,
        inference_stats: {
          success: { count: success, ns: Math.round((latency.sum - failed.sum) * 1e6) },
          fail: { count: latency.count - success, ns: Math.round(failed.sum * 1e6) },
        },
        outcomes,
        latency_ms: { ...percentiles(latency), histogram: bucketsOf(latency) },
        inference_ms: { ...percentiles(inference), histogram: bucketsOf(inference) },
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
export function prometheusText(models: { model: string; rows: RequestRow[]; loads: LoadRow[] }[]): string {
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
  family("edge_inference_model_loads_total", "counter", "Cold loads of a model version, by result.");
  for (const { model, loads } of models) {
    for (const l of loads) {
      out.push(`edge_inference_model_loads_total${labels({ model, version: l.version, result: "loaded" })} ${l.cold}`);
      out.push(`edge_inference_model_loads_total${labels({ model, version: l.version, result: "failed" })} ${l.failed}`);
    }
  }
  return `${out.join("\n")}\n`;
}
