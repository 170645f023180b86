// @ts-check
/**
 * @module pages/model: one model: its versions, traffic charts, routing edits, publishing, a
 * prediction form, drift, alerts and shadow agreement. Each part is its own module.
 */
import { admin, ApiError, enc } from "../api.js";
import { announce, bytes, el, message, replace, section, time } from "../dom.js";
import { labelsText, routingText, shadowText } from "../routing-text.js";
import { alertsSection } from "./model-alerts.js";
import { driftSection } from "./model-drift.js";
import { publishSection } from "./model-publish.js";
import { routingSection } from "./model-routing.js";
import { shadowSection } from "./model-shadow.js";
import { trafficSection } from "./model-traffic.js";
import { trySection } from "./model-try.js";

/**
 * @typedef {{ version: number, size: number, sha256: string | null, uploaded: string, signature: any, labels: string[],
 *   traffic_weight: number | null, default: boolean, shadow: boolean, isolate_state: string, load_error?: string }} VersionView
 * @typedef {{ name: string, config: any, config_etag: string | null, config_error?: string, routing: any, versions: VersionView[], shadow_stats: any[] }} ModelView
 */

/**
 * @param {HTMLElement} main
 * @param {AbortSignal} signal
 * @param {string} name
 */
export async function modelPage(main, signal, name) {
  // This rendering's own signal: ended when the page is left, or when it is read again after an
  // edit (reload), so that a reload never leaves the traffic charts' timer of the one before running.
  const own = new AbortController();
  const end = () => own.abort();
  if (signal.aborted) end();
  else signal.addEventListener("abort", end, { once: true });
  const reload = () => {
    end();
    signal.removeEventListener("abort", end);
    return modelPage(main, signal, name);
  };
  /** @type {ModelView} */
  let model;
  try {
    model = (await admin("GET", `/models/${enc(name)}`)).body;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      replace(main, el("h1", {}, name), message("note", "This model has no version (or does not exist). Publish one below from the models list, or with eictl."));
      return;
    }
    throw e;
  }
  if (own.signal.aborted) return;
  replace(
    main,
    el("h1", {}, "Model ", el("span", { class: "name" }, model.name)),
    model.config.description ? el("p", { class: "description" }, model.config.description) : null,
    model.config_error ? message("error", "The stored config is refused, so the model serves as if it had none: ", model.config_error) : null,
    el(
      "p",
      { id: "model-summary" },
      `Unlabelled traffic: ${routingText(model.routing)}. Labels: ${labelsText(model.config.labels ?? {})}. Shadow: ${shadowText(model.config.shadow)}.`,
    ),
    versionsSection(model, reload),
    await trafficSection(model, own.signal),
    routingSection(model, reload),
    publishSection(model, reload),
    trySection(model),
    await driftSection(model),
    await alertsSection(model),
    shadowSection(model, reload),
  );
}

/**
 * The versions, with a delete button for those the config does not reference.
 * @param {ModelView} model
 * @param {() => Promise<void>} reload
 */
function versionsSection(model, reload) {
  const feedback = el("div", {});
  const rows = model.versions.map((v) => {
    const referenced = v.labels.length > 0 || v.traffic_weight !== null || v.default || v.shadow;
    const remove = el(
      "button",
      {
        type: "button",
        class: "danger",
        "aria-label": `Delete version ${v.version}`,
        disabled: referenced,
        title: referenced ? "The config routes to this version (label, split, default or shadow): change that first." : null,
        onclick: async () => {
          // Unreferenced can still mean serving: the highest version takes unlabelled traffic by default.
          const serving = model.routing.kind === "latest" && model.routing.version === v.version ? " It takes unlabelled traffic now; the next highest version would." : "";
          if (!confirm(`Delete version ${v.version} of ${model.name}? Its file is removed from the repository.${serving}`)) return;
          try {
            await admin("DELETE", `/models/${enc(model.name)}/versions/${v.version}`);
            announce(`Version ${v.version} deleted.`);
            await reload();
          } catch (e) {
            replace(feedback, message("error", `Version ${v.version} was not deleted: ${e instanceof Error ? e.message : String(e)}`));
          }
        },
      },
      "Delete",
    );
    return [
      `v${v.version}`,
      bytes(v.size),
      time(v.uploaded),
      el("code", { title: v.sha256 ?? "" }, (v.sha256 ?? "–").slice(0, 12)),
      [v.labels.join(", "), v.default ? " default" : "", v.shadow ? " shadow" : ""].join("").trim() || "–",
      v.traffic_weight === null ? "–" : `${v.traffic_weight} %`,
      v.load_error ? message("error", `${v.isolate_state}: ${v.load_error}`) : v.isolate_state.replace("_", " "),
      remove,
    ];
  });
  return section(
    "versions",
    "Versions",
    el(
      "table",
      { id: "version-list", "aria-label": "Versions" },
      el("caption", {}, "State is this version's session in the isolate that answered (each isolate loads its own)."),
      el("thead", {}, el("tr", {}, ["Version", "Size", "Uploaded", "SHA-256", "Routed as", "Split", "State", "Delete"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))),
    ),
    feedback,
  );
}
