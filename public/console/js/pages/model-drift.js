// @ts-check
/**
 * @module pages/model-drift: drift per version and tensor (baseline against the recent windows),
 * and pinning a version's baseline. The service reports one score for the chosen window; it keeps
 * hourly summaries but neither a score per hour nor the histograms through the API, so none are drawn.
 */
import { admin, enc } from "../api.js";
import { announce, el, message, replace, section, table, time } from "../dom.js";

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
    );
  };
  await draw();
  return section(
    "drift",
    "Drift",
    el("p", { class: "muted" }, "Per tensor, the recent traffic against the version's pinned baseline: a population stability index under 0.1 is usually read as stable, over 0.25 as a shift. Pinning takes what the version has seen in its kept windows as the baseline and starts the windows afresh. The service gives one score per window, not a series over time."),
    el("div", { class: "toolbar" }, el("label", { for: "drift-hours" }, "Recent window "), hours),
    body,
  );
}
