// @ts-check
/**
 * @module pages/models: every model with its versions and routing, and the last hour's requests,
 * error rate and p99 from each model's per-minute statistics (GET /admin/models/{m}/stats).
 */
import { admin, enc } from "../api.js";
import { el, int, message, ms, percent, replace } from "../dom.js";
import { labelsText, routingText, shadowText } from "../routing-text.js";

/**
 * @param {HTMLElement} main
 * @param {AbortSignal} signal
 */
export async function modelsPage(main, signal) {
  const { body } = await admin("GET", "/models");
  /** @type {any[]} */
  const models = body.models;
  const stats = await Promise.all(models.map((m) => admin("GET", `/models/${enc(m.name)}/stats?minutes=60`).then((r) => r.body.window, () => null)));
  if (signal.aborted) return;
  const rows = models.map((m, i) => {
    const w = stats[i];
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, el("a", { href: `#/models/${enc(m.name)}` }, m.name)),
      el("td", {}, m.versions.map((/** @type {number} */ v) => `v${v}`).join(", ")),
      el("td", {}, routingText(m.routing)),
      el("td", {}, labelsText(m.labels)),
      el("td", {}, shadowText(m.shadow)),
      el("td", { class: "num" }, w ? int(w.count) : "–"),
      el("td", { class: "num" }, w ? percent(w.error_rate) : "–"),
      el("td", { class: "num" }, w ? ms(w.latency_ms.p99) : "–"),
      el("td", {}, m.config_error ? message("error", m.config_error) : "ok"),
    );
  });
  replace(
    main,
    el("h1", {}, "Models"),
    models.length === 0
      ? message("note", "No model is published yet. Publish one with eictl push or PUT /admin/models/{m}/versions/{v}.")
      : el(
          "table",
          { id: "model-list", "aria-label": "Models" },
          el("caption", {}, "Models in the repository. Requests, error rate and p99 cover the last 60 minutes, all versions and tenants (rate-limit refusals are not errors)."),
          el(
            "thead",
            {},
            el("tr", {}, ["Model", "Versions", "Unlabelled traffic", "Labels", "Shadow", "Requests (1 h)", "Error rate", "p99 latency", "Config"].map((h) => el("th", { scope: "col" }, h))),
          ),
          el("tbody", {}, rows),
        ),
  );
}
