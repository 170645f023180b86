// @ts-check
/**
 * @module pages/model-routing: edits a model's labels, traffic split, default version and shadow.
 * Each is saved on its own, as a conditional write of the config (config-write.js).
 */
import { writeConfig } from "../config-write.js";
import { el, section } from "../dom.js";

/**
 * @param {import("./model.js").ModelView} model
 * @param {() => Promise<void>} reload
 */
export function routingSection(model, reload) {
  const versions = model.versions.map((v) => v.version);
  return section("routing", "Routing", labelsForm(model, versions, reload), splitForm(model, versions, reload), defaultForm(model, versions, reload), shadowForm(model, versions, reload));
}

/**
 * @param {number[]} versions
 * @param {string} id
 * @param {number | undefined} selected
 * @param {string | null} none the text of an empty choice, or null for none
 */
function versionSelect(versions, id, selected, none) {
  return el(
    "select",
    { id },
    none !== null && el("option", { value: "" }, none),
    versions.map((v) => el("option", { value: String(v), selected: v === selected }, `v${v}`)),
  );
}

/**
 * Labels: name → version rows, added and removed before saving.
 * @param {import("./model.js").ModelView} model @param {number[]} versions @param {() => Promise<void>} reload
 */
function labelsForm(model, versions, reload) {
  const rows = el("div", { class: "rows" });
  let n = 0;
  /** @param {string} name @param {number | undefined} version */
  const addRow = (name, version) => {
    const i = n++;
    const row = el(
      "div",
      { class: "row label-row" },
      el("label", { for: `label-name-${i}` }, "Label"),
      el("input", { id: `label-name-${i}`, class: "label-name", value: name, pattern: "[A-Za-z][A-Za-z0-9_\\-]{0,63}", size: 14 }),
      el("label", { for: `label-version-${i}` }, "points at"),
      versionSelect(versions, `label-version-${i}`, version, null),
      el("button", { type: "button", "aria-label": `Remove label row ${i + 1}`, onclick: () => row.remove() }, "Remove"),
    );
    rows.append(row);
  };
  for (const [name, version] of Object.entries(model.config.labels ?? {})) addRow(name, /** @type {number} */ (version));
  const feedback = el("div", {});
  const form = el(
    "form",
    { id: "labels-form", "aria-labelledby": "labels-title" },
    el("h3", { id: "labels-title" }, "Labels"),
    el("p", { class: "muted" }, "A label names a version: TF Serving's /labels/{label}, KServe's X-Model-Label header."),
    rows,
    el("button", { type: "button", onclick: () => addRow("", versions.at(-1)) }, "Add a label"),
    el("button", { type: "submit" }, "Save labels"),
    feedback,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    /** @type {Record<string, number>} */
    const labels = {};
    for (const row of rows.querySelectorAll(".label-row")) {
      const name = /** @type {HTMLInputElement} */ (row.querySelector("input")).value.trim();
      if (name) labels[name] = Number(/** @type {HTMLSelectElement} */ (row.querySelector("select")).value);
    }
    writeConfig(model, (c) => (Object.keys(labels).length ? (c.labels = labels) : delete c.labels), feedback, reload, "labels");
  });
  return form;
}

/**
 * The split: a slider and a number per version, kept summing to 100 by moving the others.
 * @param {import("./model.js").ModelView} model @param {number[]} versions @param {() => Promise<void>} reload
 */
function splitForm(model, versions, reload) {
  const current = model.config.traffic ?? { [String(model.routing.version ?? versions.at(-1))]: 100 };
  /** @type {Map<number, number>} */
  const weights = new Map(versions.map((v) => [v, Number(current[String(v)] ?? 0)]));
  const sum = el("output", { id: "split-sum", "aria-live": "polite" });
  /** @type {Map<number, { range: HTMLInputElement, number: HTMLInputElement }>} */
  const inputs = new Map();
  const sync = () => {
    for (const [v, w] of weights) {
      const pair = /** @type {{ range: HTMLInputElement, number: HTMLInputElement }} */ (inputs.get(v));
      pair.range.value = String(w);
      pair.number.value = String(w);
    }
    sum.textContent = `Sum: ${[...weights.values()].reduce((a, b) => a + b, 0)} %`;
  };
  /** Sets one weight and spreads the rest over the others in proportion to theirs. @param {number} version @param {number} value */
  const set = (version, value) => {
    const w = Math.max(0, Math.min(100, Math.round(value) || 0));
    weights.set(version, w);
    const others = versions.filter((v) => v !== version);
    const rest = 100 - w;
    const total = others.reduce((a, v) => a + (weights.get(v) ?? 0), 0);
    for (const v of others) weights.set(v, total === 0 ? 0 : Math.floor(((weights.get(v) ?? 0) * rest) / total));
    const short = rest - others.reduce((a, v) => a + (weights.get(v) ?? 0), 0);
    // Rounding leftovers (or everything, when the others were all 0) go to the largest other.
    const target = others.reduce((best, v) => ((weights.get(v) ?? 0) > (weights.get(best) ?? -1) ? v : best), others[others.length - 1] ?? version);
    if (target !== version) weights.set(target, (weights.get(target) ?? 0) + short);
    sync();
  };
  const sliders = versions.map((v) => {
    const range = el("input", { type: "range", id: `split-range-${v}`, min: 0, max: 100, step: 1, "aria-label": `Share of v${v} (slider)` });
    const number = el("input", { type: "number", id: `split-weight-${v}`, min: 0, max: 100, step: 1, class: "weight" });
    range.addEventListener("input", () => set(v, Number(range.value)));
    number.addEventListener("change", () => set(v, Number(number.value)));
    inputs.set(v, { range, number });
    return el("div", { class: "row" }, el("label", { for: `split-weight-${v}` }, `v${v} share (%)`), range, number);
  });
  sync();
  const feedback = el("div", {});
  const form = el(
    "form",
    { id: "split-form", "aria-labelledby": "split-title" },
    el("h3", { id: "split-title" }, "Traffic split"),
    el("p", { class: "muted" }, "Requests naming no version or label are split by these weights, sticky per caller. Moving one share moves the others so they sum to 100."),
    sliders,
    sum,
    el("button", { type: "submit" }, "Save split"),
    model.config.traffic && el("button", { type: "button", id: "split-remove", onclick: () => writeConfig(model, (c) => delete c.traffic, feedback, reload, "split removal") }, "Remove the split"),
    feedback,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    /** @type {Record<string, number>} */
    const traffic = {};
    for (const [v, w] of weights) if (w > 0) traffic[String(v)] = w;
    writeConfig(model, (c) => (c.traffic = traffic), feedback, reload, "split");
  });
  return form;
}

/** @param {import("./model.js").ModelView} model @param {number[]} versions @param {() => Promise<void>} reload */
function defaultForm(model, versions, reload) {
  const select = versionSelect(versions, "default-version", model.config.default_version, "none: the highest version");
  const feedback = el("div", {});
  const form = el(
    "form",
    { id: "default-form", "aria-labelledby": "default-title" },
    el("h3", { id: "default-title" }, "Default version"),
    el("p", { class: "muted" }, "Used when there is no split. Setting it is the one-step rollback."),
    el("label", { for: "default-version" }, "Default version "),
    select,
    el("button", { type: "submit" }, "Save default"),
    feedback,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    writeConfig(model, (c) => (select.value ? (c.default_version = Number(select.value)) : delete c.default_version), feedback, reload, "default version");
  });
  return form;
}

/** @param {import("./model.js").ModelView} model @param {number[]} versions @param {() => Promise<void>} reload */
function shadowForm(model, versions, reload) {
  const select = versionSelect(versions, "shadow-version", model.config.shadow?.version, "off");
  const percent = el("input", { type: "number", id: "shadow-percent", min: 0, max: 100, step: "any", value: String(model.config.shadow?.percent ?? 10) });
  const feedback = el("div", {});
  const form = el(
    "form",
    { id: "shadow-form", "aria-labelledby": "shadow-edit-title" },
    el("h3", { id: "shadow-edit-title" }, "Shadow"),
    el("p", { class: "muted" }, "Also runs a share of other versions' requests on this version after the response, to compare."),
    el("label", { for: "shadow-version" }, "Shadow version "),
    select,
    el("label", { for: "shadow-percent" }, " share of requests (%) "),
    percent,
    el("button", { type: "submit" }, "Save shadow"),
    feedback,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    writeConfig(model, (c) => (select.value ? (c.shadow = { version: Number(select.value), percent: Number(percent.value) }) : delete c.shadow), feedback, reload, "shadow");
  });
  return form;
}
