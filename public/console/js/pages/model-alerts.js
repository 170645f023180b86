// @ts-check
/** @module pages/model-alerts: a model's alert rules (from its config) and each rule's state and incidents. */
import { admin, enc } from "../api.js";
import { el, message, section, table, time } from "../dom.js";

/** @param {{ name: string }} model */
export async function alertsSection(model) {
  let content;
  try {
    const { body } = await admin("GET", `/models/${enc(model.name)}/alerts`);
    /** @type {any[]} */
    const rules = body.config?.rules ?? [];
    /** @type {Map<string, any>} */
    const states = new Map(body.rules.map((/** @type {any} */ r) => [r.name, r]));
    content =
      rules.length === 0
        ? message("note", "No alert rules: add them under \"alerts\" in the model's config (docs/observability.md, Alerts).")
        : [
            el("p", {}, "Webhook: ", el("code", {}, body.config.webhook)),
            table(
              "Rules, their state and incidents. A rule fires once when it starts breaching, and re-arms when back under its threshold.",
              ["Rule", "Metric", "Fires above", "State", "Last value", "Since", "Times fired", "Webhook delivery"],
              rules.map((r) => {
                const s = states.get(r.name);
                const delivery = !s ? "–" : s.delivery_pending ? `pending (attempt ${s.attempts}${s.last_error ? `, ${s.last_error}` : ""})` : s.last_sent_at ? `sent ${time(s.last_sent_at)}` : "nothing sent";
                return [
                  r.name,
                  `${r.metric}${r.tensor ? ` (${r.tensor})` : ""}`,
                  String(r.above),
                  s ? el("span", { class: `state-${s.state}` }, s.state) : "not checked yet",
                  s?.value ?? "–",
                  time(s?.since),
                  String(s?.fired ?? 0),
                  delivery,
                ];
              }),
              { id: "alert-list", "aria-label": "Alert rules" },
            ),
          ];
  } catch (e) {
    content = message("error", `Alerts could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return section("alerts", "Alerts", content);
}
