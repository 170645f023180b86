// @ts-check
/**
 * @module pages/model-drift: drift per version and tensor: the score of each hourly window against
 * the pinned baseline, the baseline's histogram against the recent one, and pinning a baseline.
 */
import { admin, enc } from "../api.js";
import { barChart, lineChart } from "../chart.js";
import { announce, el, message, replace, section, table, time } from "../dom.js";

const SOURCE = "GET /admin/models/{m}/drift: the statistics object's hourly summaries of sampled values, kept a week";

/** A histogram's counts as shares of its total, in percent. @param {number[]} counts */
const shares = (counts) => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (total ? Math.round((n / total) * 1000) / 10 : 0));
};

/** @param {number | string} le */
const binLabel = (le) => (le === "+Inf" ? ">1000" : `≤${le}`);

/**
 * One tensor's charts: its score per hour (once a baseline is pinned) and the two histograms.
 * @param {number} version
 * @param {any} t
 */
function tensorCharts(version, t) {
  const id = `drift-v${version}-${t.role}-${t.tensor}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return [
    t.baseline &&
      lineChart({
        id: `${id}-score`,
        title: `v${version} ${t.role} ${t.tensor}: drift score per hour`,
        source: `${SOURCE}; each hour's population stability index against the baseline.`,
        unit: "",
        step: 3_600_000,
        series: [{ name: "PSI", points: t.hourly.map((/** @type {any} */ h) => [Date.parse(h.at), h.drift_score]) }],
        empty: "No traffic since the baseline was pinned.",
      }),
    barChart({
      id: `${id}-histogram`,
      title: `v${version} ${t.role} ${t.tensor}: values, baseline against recent`,
      source: `${SOURCE}; shares of the sampled values per signed-logarithmic bin.`,
      unit: "%",
      labels: t.current.histogram.le.map(binLabel),
      series: [
        ...(t.baseline ? [{ name: "baseline", values: shares(t.baseline.histogram.counts) }] : []),
        { name: "recent", values: shares(t.current.histogram.counts) },
      ],
    }),
  ];
}

/** @param {number | null | undefined} x */
const num = (x) => (x === null || x === undefined ? "–" : Math.abs(x) >= 1000 || (x !== 0 && Math.abs(x) < 0.001) ? x.toExponential(2) : String(Number(x.toFixed(3))));

/** Stable under 0.1, a shift over 0.25: the usual reading of the population stability index. @param {number | null} score */
const verdict = (score) => (score === null ? "no baseline" : score > 0.25 ? "shift" : score > 0.1 ? "watch" : "stable");

/** @param {{ name: string }} model */
export async function driftSection(model) {
  const body = el("div", { id: "drift-body" });
  const hours = el(
    "select",
    { id: "drift-hours", onchange: () => draw() },
    [1, 6, 24, 168].map((h) => el("option", { value: String(h), selected: h === 24 }, h === 168 ? "last week" : `last ${h} h`)),
  );
  async function draw() {
    try {
      const { body: report } = await admin("GET", `/models/${enc(model.name)}/drift?hours=${hours.value}`);
      replace(body, ...(report.versions.length === 0 ? [message("note", "No traffic recorded yet, so no drift.")] : report.versions.map(versionBlock)));
    } catch (e) {
      replace(body, message("error", `Drift could not be read: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
  /** @param {any} v */
  const versionBlock = (v) => {
    const feedback = el("div", {});
    const pin = el(
      "button",
      {
        type: "button",
        id: `drift-pin-${v.version}`,
        onclick: async () => {
          try {
            const { body: pinned } = await admin("POST", `/models/${enc(model.name)}/drift/baseline?version=${v.version}`);
            announce(`Baseline of v${v.version} pinned over ${pinned.tensors} tensors.`);
            await draw();
          } catch (e) {
            replace(feedback, message("error", `Not pinned: ${e instanceof Error ? e.message : String(e)}`));
          }
        },
      },
      `Pin v${v.version}'s traffic as its baseline`,
    );
    return el(
      "div",
      { class: "drift-version" },
      table(
        `v${v.version}: baseline ${v.baseline_pinned_at ? `pinned ${time(v.baseline_pinned_at)}` : "not pinned"}, recent = the last ${v.window_hours} h (since the pin at most)`,
        ["Tensor", "Role", "Baseline n / mean / sd", "Recent n / mean / sd / min / max", "Drift score (PSI)", "Mean shift (sd)", "Reading"],
        v.tensors.map((/** @type {any} */ t) => [
          t.tensor,
          t.role,
          t.baseline ? `${t.baseline.count} / ${num(t.baseline.mean)} / ${num(t.baseline.sd)}` : "–",
          `${t.current.count} / ${num(t.current.mean)} / ${num(t.current.sd)} / ${num(t.current.min)} / ${num(t.current.max)}`,
          num(t.drift_score),
          num(t.mean_shift_sd),
          verdict(t.drift_score),
        ]),
        { "aria-label": `Drift of v${v.version}` },
      ),
      pin,
      feedback,
      el("div", { class: "charts" }, v.tensors.map((/** @type {any} */ t) => tensorCharts(v.version, t))),
    );
  };
  await draw();
  return section(
    "drift",
    "Drift",
    el("p", { class: "muted" }, "Per tensor, the recent traffic against the version's pinned baseline: a population stability index under 0.1 is usually read as stable, over 0.25 as a shift. Pinning takes what the version has seen in its kept windows as the baseline and starts the windows afresh."),
    el("div", { class: "toolbar" }, el("label", { for: "drift-hours" }, "Recent window "), hours),
    body,
  );
}
