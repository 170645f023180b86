// @ts-check
/** @module pages/tenants: every tenant (GET /admin/tenants) with its policy, and a form to create one. */
import { admin, enc } from "../api.js";
import { el, int, message, replace, section } from "../dom.js";

/**
 * @param {HTMLElement} main
 * @param {AbortSignal} signal
 */
export async function tenantsPage(main, signal) {
  const { body } = await admin("GET", "/tenants");
  /** @type {string[]} */
  const names = body.tenants;
  const views = await Promise.all(names.map((t) => admin("GET", `/tenants/${enc(t)}`).then((r) => r.body, () => null)));
  if (signal.aborted) return;
  const name = el("input", { id: "new-tenant-name", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}" });
  const rpm = el("input", { id: "new-tenant-rpm", type: "number", min: 1, step: 1, value: "600", required: true });
  const feedback = el("div", {});
  const form = el(
    "form",
    { id: "new-tenant" },
    el("div", { class: "row" }, el("label", { for: "new-tenant-name" }, "Tenant name"), name),
    el("div", { class: "row" }, el("label", { for: "new-tenant-rpm" }, "Requests per minute"), rpm),
    el("button", { type: "submit" }, "Create tenant"),
    feedback,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await admin("PUT", `/tenants/${enc(name.value.trim())}`, { body: { requests_per_minute: Number(rpm.value) } });
      location.hash = `#/tenants/${enc(name.value.trim())}`;
    } catch (err) {
      replace(feedback, message("error", `Not created: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  replace(
    main,
    el("h1", {}, "Tenants"),
    names.length === 0
      ? message("note", "No tenant is listed yet. (Tenants created before the tenant list existed appear once their policy is put again.)")
      : el(
          "table",
          { id: "tenant-list", "aria-label": "Tenants" },
          el("caption", {}, "Tenants and their policies."),
          el("thead", {}, el("tr", {}, ["Tenant", "Requests/min", "Burst", "Daily quota", "Models", "Admission"].map((h) => el("th", { scope: "col" }, h)))),
          el(
            "tbody",
            {},
            names.map((t, i) => {
              const p = views[i]?.policy;
              return el(
                "tr",
                {},
                el("th", { scope: "row" }, el("a", { href: `#/tenants/${enc(t)}` }, t)),
                el("td", { class: "num" }, p ? int(p.requests_per_minute) : "–"),
                el("td", { class: "num" }, p ? int(p.burst) : "–"),
                el("td", { class: "num" }, p ? (p.daily_quota === null ? "none" : int(p.daily_quota)) : "–"),
                el("td", {}, p ? (p.models === "*" ? "all" : p.models.join(", ")) : "–"),
                el("td", {}, p?.admission ?? "–"),
              );
            }),
          ),
        ),
    section("create-tenant", "Create a tenant", form),
  );
}
