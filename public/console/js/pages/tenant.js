// @ts-check
/**
 * @module pages/tenant: one tenant: its policy (edited with PUT), its keys (a new key is shown
 * once, with a copy button; revoking asks first) and 30 days of usage.
 */
import { admin, enc } from "../api.js";
import { barChart } from "../chart.js";
import { announce, el, message, replace, section, table, time } from "../dom.js";

/**
 * @param {HTMLElement} main
 * @param {AbortSignal} signal
 * @param {string} name
 */
export async function tenantPage(main, signal, name) {
  const [tenant, keys, usage] = await Promise.all([
    admin("GET", `/tenants/${enc(name)}`),
    admin("GET", `/tenants/${enc(name)}/keys`),
    admin("GET", `/tenants/${enc(name)}/usage`),
  ]);
  if (signal.aborted) return;
  const reload = () => tenantPage(main, signal, name);
  replace(
    main,
    el("h1", {}, "Tenant ", el("span", { class: "name" }, name)),
    el("p", { class: "muted" }, `Created ${time(tenant.body.created_at)}, policy updated ${time(tenant.body.updated_at)}.`),
    policySection(name, tenant.body.policy, reload),
    keysSection(name, keys.body.keys, reload),
    usageSection(usage.body.days),
  );
}

/** @param {string} name @param {any} policy @param {() => Promise<void>} reload */
function policySection(name, policy, reload) {
  /** @param {string} id @param {string} text @param {HTMLElement} input */
  const field = (id, text, input) => el("div", { class: "row" }, el("label", { for: id }, text), input);
  const rpm = el("input", { id: "policy-rpm", type: "number", min: 1, step: 1, required: true, value: String(policy.requests_per_minute) });
  const burst = el("input", { id: "policy-burst", type: "number", min: 1, step: 1, required: true, value: String(policy.burst) });
  const quota = el("input", { id: "policy-quota", type: "number", min: 0, step: 1, value: policy.daily_quota === null ? "" : String(policy.daily_quota) });
  const models = el("input", { id: "policy-models", value: policy.models === "*" ? "*" : policy.models.join(", ") });
  const admission = el(
    "select",
    { id: "policy-admission" },
    ["leased", "exact"].map((a) => el("option", { value: a, selected: a === policy.admission }, a)),
  );
  const feedback = el("div", {});
  const form = el(
    "form",
    { id: "policy-form" },
    field("policy-rpm", "Requests per minute", rpm),
    field("policy-burst", "Burst", burst),
    field("policy-quota", "Daily quota (empty: none)", quota),
    field("policy-models", "Models (* for all, or names separated by commas)", models),
    field("policy-admission", "Admission", admission),
    el("button", { type: "submit" }, "Save policy"),
    feedback,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const list = models.value.trim();
    const body = {
      requests_per_minute: Number(rpm.value),
      burst: Number(burst.value),
      daily_quota: quota.value === "" ? null : Number(quota.value),
      models: list === "*" ? "*" : list.split(",").map((m) => m.trim()).filter(Boolean),
      admission: admission.value,
    };
    try {
      await admin("PUT", `/tenants/${enc(name)}`, { body });
      announce("Policy saved.");
      await reload();
    } catch (err) {
      replace(feedback, message("error", `Not saved: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  return section("policy", "Policy", form);
}

/** @param {string} name @param {any[]} keys @param {() => Promise<void>} reload */
function keysSection(name, keys, reload) {
  const feedback = el("div", { id: "key-feedback" });
  const created = el("div", { id: "new-key-box" });
  const keyName = el("input", { id: "key-name", maxlength: 100 });
  const days = el("input", { id: "key-days", type: "number", min: 1, step: 1 });
  const form = el(
    "form",
    { id: "key-form" },
    el("div", { class: "row" }, el("label", { for: "key-name" }, "Key name (optional)"), keyName),
    el("div", { class: "row" }, el("label", { for: "key-days" }, "Expires after days (empty: never)"), days),
    el("button", { type: "submit" }, "Create key"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = { ...(keyName.value.trim() ? { name: keyName.value.trim() } : {}), ...(days.value ? { expires_in_seconds: Number(days.value) * 86400 } : {}) };
      const { body: key } = await admin("POST", `/tenants/${enc(name)}/keys`, { body });
      await reload();
      // After the reload, which rebuilt this section: the secret goes in the new page's box, once.
      showOnce(key.key, key.id);
    } catch (err) {
      replace(feedback, message("error", `No key created: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  const rows = keys.map((k) => [
    el("code", {}, k.id),
    el("code", {}, `${k.prefix}…`),
    k.name ?? "–",
    time(k.created_at),
    time(k.expires_at),
    k.status,
    k.status === "revoked"
      ? time(k.revoked_at)
      : el(
          "button",
          {
            type: "button",
            class: "danger",
            "aria-label": `Revoke key ${k.id}`,
            onclick: async () => {
              if (!confirm(`Revoke key ${k.id}${k.name ? ` (${k.name})` : ""}? Requests with it are refused from now on.`)) return;
              try {
                await admin("DELETE", `/tenants/${enc(name)}/keys/${enc(k.id)}`);
                announce(`Key ${k.id} revoked.`);
                await reload();
              } catch (err) {
                replace(feedback, message("error", `Not revoked: ${err instanceof Error ? err.message : String(err)}`));
              }
            },
          },
          "Revoke",
        ),
  ]);
  return section(
    "keys",
    "API keys",
    created,
    keys.length === 0 ? message("note", "No keys yet.") : table("Keys: only a prefix of each is kept; the key itself was shown once.", ["Id", "Prefix", "Name", "Created", "Expires", "Status", "Revoke"], rows, { id: "key-list", "aria-label": "API keys" }),
    feedback,
    el("h3", {}, "Create a key"),
    form,
  );
}

/**
 * Shows a new key with a copy button. It is not kept anywhere: leaving the page forgets it.
 * @param {string} secret
 * @param {string} id
 */
function showOnce(secret, id) {
  const box = document.getElementById("new-key-box");
  if (!box) return;
  const value = el("input", { id: "new-key", readonly: true, value: secret, size: 50 });
  const copied = el("span", { role: "status" });
  replace(
    box,
    el(
      "div",
      { class: "msg msg-ok" },
      el("p", {}, `Key ${id} created. Copy it now: it is shown only this once.`),
      el("label", { for: "new-key" }, "New API key "),
      value,
      el(
        "button",
        {
          type: "button",
          id: "copy-key",
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(secret);
              copied.textContent = " Copied.";
            } catch {
              value.select();
              copied.textContent = " Select and copy it (the clipboard is not available here).";
            }
          },
        },
        "Copy",
      ),
      copied,
    ),
  );
  value.focus();
  value.select();
}

/** The last 30 UTC days; a day the tenant's object has no row for had no requests. @param {any[]} days */
function usageSection(days) {
  /** @type {Map<string, any>} */
  const byDate = new Map(days.map((d) => [d.date, d]));
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const dates = Array.from({ length: 30 }, (_, i) => new Date(today - (29 - i) * 86_400_000).toISOString().slice(0, 10));
  /** @param {(d: any) => number} pick */
  const values = (pick) => dates.map((d) => (byDate.has(d) ? pick(byDate.get(d)) : 0));
  return section(
    "usage",
    "Usage, last 30 days",
    barChart({
      id: "chart-usage",
      title: "Requests per UTC day",
      source: "the tenant's Durable Object (GET /admin/tenants/{t}/usage), which counts admissions per day.",
      unit: "",
      labels: dates.map((d) => d.slice(5)),
      series: [
        { name: "accepted", values: values((d) => d.accepted) },
        { name: "refused: rate limit", values: values((d) => d.rejected_rate_limit) },
        { name: "refused: quota", values: values((d) => d.rejected_quota) },
        { name: "refused: model not allowed", values: values((d) => d.rejected_forbidden) },
      ],
      empty: "No requests in the last 30 days.",
    }),
  );
}
