// @ts-check
/**
 * @module pages/model-traffic: a model's traffic charts, refreshed every 5 s while shown. Requests
 * and latency over time come from the per-minute series the statistics object keeps for a day;
 * outcomes, inference time and batch sizes only exist as totals, so they are drawn as such.
 */
import { admin, enc } from "../api.js";
import { barChart, lineChart } from "../chart.js";
import { el, message, ms, replace, section } from "../dom.js";

const REFRESH_MS = 5000;
const SERIES = "per-minute series of the model's statistics object (GET /admin/models/{m}/stats, kept a day), all versions";

/**
 * @param {{ name: string }} model
 * @param {AbortSignal} signal
 */
export async function trafficSection(model, signal) {
  const charts = el("div", { id: "traffic-charts", class: "charts", "aria-live": "off" });
  const windowSelect = el(
    "select",
    { id: "traffic-window", onchange: () => draw() },
    [
      ["60", "last hour"],
      ["360", "last 6 hours"],
      ["1440", "last 24 hours"],
    ].map(([v, text]) => el("option", { value: v }, text)),
  );
  const auto = el("input", { type: "checkbox", id: "traffic-auto", checked: true });
  const updated = el("span", { class: "muted", id: "traffic-updated" });

  async function draw() {
    try {
      const minutes = Number(windowSelect.value);
      const { body } = await admin("GET", `/models/${enc(model.name)}/stats?minutes=${minutes}`);
      if (signal.aborted) return;
      replace(charts, ...render(body, minutes));
      // How many reads the charts show, for a test (or a curious operator) to tell a refresh happened.
      charts.dataset.reads = String(Number(charts.dataset.reads ?? 0) + 1);
      updated.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
    } catch (e) {
      replace(charts, message("error", `Statistics could not be read: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
  await draw();
  // Left while the first read was out: its abort has fired already, and would never stop a timer started now.
  if (!signal.aborted) {
    const timer = setInterval(() => auto.checked && !document.hidden && draw(), REFRESH_MS);
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  }

  return section(
    "traffic",
    "Traffic",
    el(
      "div",
      { class: "toolbar" },
      el("label", { for: "traffic-window" }, "Window "),
      windowSelect,
      el("label", { for: "traffic-auto" }, auto, " refresh every 5 s"),
      el("button", { type: "button", id: "traffic-refresh", onclick: () => draw() }, "Refresh now"),
      updated,
    ),
    charts,
  );
}

/**
 * @param {any} body the stats route's answer
 * @param {number} minutes
 */
function render(body, minutes) {
  // Every minute of the window: a minute with no row had no requests (0), and no latency (a gap).
  /** @type {Map<number, any>} */
  const byMinute = new Map(body.minutes.map((/** @type {any} */ m) => [Date.parse(m.at), m]));
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const times = body.minutes.length === 0 ? [] : Array.from({ length: minutes }, (_, i) => now - (minutes - 1 - i) * 60_000);
  /** @param {(m: any) => number | null} pick @param {number | null} none @returns {[number, number | null][]} */
  const points = (pick, none) => times.map((t) => [t, byMinute.has(t) ? pick(byMinute.get(t)) : none]);
  /** @type {any[]} */
  const stats = body.model_stats;
  const versions = stats.map((s) => `v${s.version}`);
  const outcomes = [...new Set(stats.flatMap((s) => Object.keys(s.outcomes)))].sort();
  const buckets = stats[0]?.inference_ms.histogram.le_ms.map((/** @type {number | string} */ le) => (le === "+Inf" ? "more" : `≤${le}`)) ?? [];
  const batchSizes = [...new Set(stats.flatMap((s) => s.batch_stats.map((/** @type {any} */ b) => b.batch_size)))].sort((a, b) => a - b);
  return [
    lineChart({
      id: "chart-requests",
      title: "Requests per minute",
      source: SERIES + ". It counts failures but not their kind (see outcomes).",
      unit: "",
      series: [
        { name: "succeeded", points: points((m) => m.count - m.errors, 0) },
        { name: "failed", points: points((m) => m.errors, 0) },
      ],
      empty: "No requests in this window.",
    }),
    lineChart({
      id: "chart-latency",
      title: "Latency per minute (time in the Worker)",
      source: `${SERIES}, percentiles estimated from its histogram buckets. A deployed Worker's clock moves only across I/O.`,
      unit: "ms",
      series: ["p50", "p90", "p99"].map((p) => ({ name: p, points: points((m) => m.latency_ms[p], null) })),
      empty: "No requests in this window.",
    }),
    barChart({
      id: "chart-outcomes",
      title: "Requests by outcome, since the statistics began",
      source: "totals per version and outcome (model_stats.outcomes); the service keeps no per-minute series of outcomes.",
      unit: "",
      labels: outcomes,
      series: stats.map((s, i) => ({ name: versions[i] ?? "", values: outcomes.map((o) => s.outcomes[o] ?? 0) })),
    }),
    barChart({
      id: "chart-inference",
      title: "Inference time (onnxruntime's run), since the statistics began",
      source: "the cumulative histogram per version (model_stats.inference_ms); the service keeps no series of it over time.",
      unit: "requests",
      labels: buckets.map((/** @type {string} */ b) => `${b} ms`),
      series: stats.map((s, i) => ({ name: versions[i] ?? "", values: s.inference_ms.histogram.counts })),
    }),
    el(
      "p",
      { class: "muted" },
      stats.map((s) => `v${s.version} inference p50 ${ms(s.inference_ms.p50)}, p90 ${ms(s.inference_ms.p90)}, p99 ${ms(s.inference_ms.p99)}. `),
    ),
    barChart({
      id: "chart-batches",
      title: "onnxruntime runs by batch size, since the statistics began",
      source: "totals per version and batch size (model_stats.batch_stats); dynamic batching joins requests into larger runs. No series over time is kept.",
      unit: "runs",
      labels: batchSizes.map(String),
      series: stats.map((s, i) => ({
        name: versions[i] ?? "",
        values: batchSizes.map((size) => s.batch_stats.find((/** @type {any} */ b) => b.batch_size === size)?.compute_infer.count ?? 0),
      })),
    }),
  ];
}
