// @ts-check
/** @module pages/model-shadow: agreement between each primary version and its shadow (from the model page's read). */
import { admin, enc } from "../api.js";
import { announce, el, message, ms, percent, replace, section, table, time } from "../dom.js";

/**
 * @param {import("./model.js").ModelView} model
 * @param {() => Promise<void>} reload
 */
export function shadowSection(model, reload) {
  const feedback = el("div", {});
  const pairs = model.shadow_stats;
  return section(
    "shadow",
    "Shadow agreement",
    pairs.length === 0
      ? message("note", "No shadow traffic recorded.")
      : [
          table(
            "Per (primary, shadow) pair: outputs agree when every value is within 1e-4 + 1e-3 × |primary| (integers exactly).",
            ["Primary", "Shadow", "Mirrored", "Compared", "Agreement", "Shadow errors", "Largest difference", "Primary / shadow mean", "Last", "Last error"],
            pairs.map((p) => [
              `v${p.primary_version}`,
              `v${p.shadow_version}`,
              String(p.mirrored),
              String(p.compared),
              percent(p.agreement),
              String(p.errors),
              p.max_abs_diff === null ? "–" : String(Number(p.max_abs_diff.toPrecision(4))),
              `${ms(p.primary_ms.mean)} / ${ms(p.shadow_ms.mean)}`,
              time(p.last_at),
              p.last_error ?? "–",
            ]),
            { id: "shadow-list", "aria-label": "Shadow agreement" },
          ),
          el(
            "button",
            {
              type: "button",
              onclick: async () => {
                if (!confirm("Forget these shadow figures and start counting afresh?")) return;
                try {
                  await admin("DELETE", `/models/${enc(model.name)}/shadow`);
                  announce("Shadow figures reset.");
                  await reload();
                } catch (e) {
                  replace(feedback, message("error", e instanceof Error ? e.message : String(e)));
                }
              },
            },
            "Reset the figures",
          ),
        ],
    feedback,
  );
}
