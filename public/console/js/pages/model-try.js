// @ts-check
/**
 * @module pages/model-try: a prediction form built from a version's signature (its inputs'
 * names, datatypes and shapes), run with a tenant key the operator pastes. The key stays in the
 * form: it is not stored.
 */
import { predict } from "../api.js";
import { el, message, replace, section, table } from "../dom.js";

/**
 * @typedef {{ name: string, datatype: string, shape: number[] }} TensorSpec
 */

/**
 * @param {import("./model.js").ModelView} model
 */
export function trySection(model) {
  const routed = model.routing.version ?? model.versions.at(-1)?.version;
  const versionSelect = el(
    "select",
    { id: "try-version" },
    el("option", { value: "" }, "as routed (no version named)"),
    model.versions.map((v) => el("option", { value: String(v.version) }, `v${v.version}`)),
  );
  const key = el("input", { type: "password", id: "try-key", autocomplete: "off", spellcheck: "false", required: true });
  const fields = el("div", { id: "try-inputs" });
  const result = el("div", { id: "try-result", "aria-live": "polite" });

  /** The signature shown: the chosen version's, or the routed one's. */
  const signature = () => {
    const chosen = Number(versionSelect.value || routed);
    return model.versions.find((v) => v.version === chosen)?.signature ?? null;
  };
  const build = () => {
    const sig = signature();
    if (!sig) {
      replace(fields, message("note", "This version's signature is not known yet (it has not been loaded since it was published)."));
      return;
    }
    replace(
      fields,
      sig.inputs.map((/** @type {TensorSpec} */ input, /** @type {number} */ i) => {
        // Dynamic dimensions (-1) start at 1; the data starts as zeros of that size, to edit.
        const shape = input.shape.map((d) => (d < 0 ? 1 : d));
        const count = shape.reduce((a, b) => a * b, 1);
        const data = input.datatype === "BOOL" ? Array(count).fill(false) : input.datatype === "BYTES" ? Array(count).fill("") : Array(count).fill(0);
        return el(
          "fieldset",
          { class: "tensor", "data-name": input.name, "data-datatype": input.datatype },
          el("legend", {}, `Input ${input.name}: ${input.datatype}, shape [${input.shape.join(", ")}]`),
          el("label", { for: `try-shape-${i}` }, "Shape (JSON)"),
          el("input", { id: `try-shape-${i}`, class: "shape", value: JSON.stringify(shape) }),
          el("label", { for: `try-data-${i}` }, "Data, flat, row-major (JSON)"),
          el("textarea", { id: `try-data-${i}`, class: "data", rows: 2 }, JSON.stringify(data)),
        );
      }),
    );
  };
  versionSelect.addEventListener("change", build);
  build();

  const form = el(
    "form",
    { id: "try-form", "aria-labelledby": "try-title" },
    el("div", { class: "row" }, el("label", { for: "try-key" }, "Tenant API key"), key),
    el("div", { class: "row" }, el("label", { for: "try-version" }, "Version"), versionSelect),
    fields,
    el("button", { type: "submit" }, "Run prediction"),
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    /** @type {any[]} */
    const inputs = [];
    try {
      for (const fs of fields.querySelectorAll("fieldset.tensor")) {
        const f = /** @type {HTMLFieldSetElement} */ (fs);
        const shape = JSON.parse(/** @type {HTMLInputElement} */ (f.querySelector(".shape")).value);
        const data = JSON.parse(/** @type {HTMLTextAreaElement} */ (f.querySelector(".data")).value);
        inputs.push({ name: f.dataset.name, datatype: f.dataset.datatype, shape, data });
      }
    } catch (err) {
      replace(result, message("error", `A shape or data field is not valid JSON: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    replace(result, el("p", { class: "loading" }, "Running…"));
    try {
      const answer = await predict(model.name, versionSelect.value ? Number(versionSelect.value) : null, key.value.trim(), { inputs });
      replace(
        result,
        el("p", { id: "try-answered" }, "Answered by version ", el("strong", {}, answer.version ?? answer.body.model_version ?? "?"), "."),
        table(
          "Outputs",
          ["Output", "Datatype", "Shape", "Data"],
          answer.body.outputs.map((/** @type {any} */ o) => [o.name, o.datatype, `[${o.shape.join(", ")}]`, preview(o.data)]),
          { id: "try-outputs" },
        ),
        table(
          "Server-Timing: the request's phases in the Worker",
          ["Phase", "Time"],
          parseTiming(answer.timing).map(([phase, dur]) => [phase, `${dur} ms`]),
          { id: "try-timing" },
        ),
      );
    } catch (err) {
      replace(result, message("error", `Refused: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  return section("try", "Try it", el("p", { class: "muted" }, "Runs a KServe V2 prediction with a tenant's key (the admin token does not open predictions). The key is not stored."), form);
}

/** @param {unknown[] | undefined} data */
function preview(data) {
  if (!data) return "(binary)";
  const shown = data.slice(0, 24).map((v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v));
  return `${JSON.stringify(shown)}${data.length > 24 ? ` … (${data.length} values)` : ""}`;
}

/**
 * `auth;dur=6, ratelimit;dur=6` → [["auth", 6], ["ratelimit", 6]].
 * @param {string} header
 * @returns {[string, number][]}
 */
export function parseTiming(header) {
  return header
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name, ...params] = part.split(";");
      const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
      return /** @type {[string, number]} */ ([name ?? "", dur ? Number(dur.slice(4)) : 0]);
    });
}
