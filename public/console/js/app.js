// @ts-check
/**
 * @module app: the console's entry. Hash routes (#/models, #/models/{m}, #/tenants,
 * #/tenants/{t}, #/isolate) so the Worker serves one page; the token never enters the URL.
 */
import { token, whenUnauthorized } from "./api.js";
import { announce, el, message, replace } from "./dom.js";
import { isolatePage } from "./pages/isolate.js";
import { modelPage } from "./pages/model.js";
import { modelsPage } from "./pages/models.js";
import { signInPage } from "./pages/sign-in.js";
import { tenantPage } from "./pages/tenant.js";
import { tenantsPage } from "./pages/tenants.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
const signOut = /** @type {HTMLButtonElement} */ (document.getElementById("sign-out"));

/** Pages stop their timers when left: each render gets a fresh signal. */
let leaving = new AbortController();

/**
 * @typedef {(main: HTMLElement, signal: AbortSignal, ...params: string[]) => Promise<void>} Page
 * @type {[RegExp, Page][]}
 */
const routes = [
  [/^#\/models\/([^/]+)$/, modelPage],
  [/^#\/models\/?$/, modelsPage],
  [/^#\/tenants\/([^/]+)$/, tenantPage],
  [/^#\/tenants\/?$/, tenantsPage],
  [/^#\/isolate\/?$/, isolatePage],
];

/**
 * A route's parameters, decoded; null when one is not valid percent-encoding (a hand-edited or
 * cut-off link: decodeURIComponent throws a URIError for "%E0%A4%A").
 * @param {RegExp} pattern @param {string} hash
 * @returns {string[] | null}
 */
function decodedParams(pattern, hash) {
  try {
    return /** @type {RegExpExecArray} */ (pattern.exec(hash)).slice(1).map(decodeURIComponent);
  } catch (e) {
    if (e instanceof URIError) return null;
    throw e;
  }
}

async function render() {
  leaving.abort();
  leaving = new AbortController();
  const signedIn = token.get() !== null;
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  if (!signedIn) {
    signInPage(main, () => {
      if (location.hash === "" || location.hash === "#/") location.hash = "#/models";
      else render();
    });
    return;
  }
  const hash = location.hash || "#/models";
  for (const a of nav.querySelectorAll("a")) {
    if (hash.startsWith(a.getAttribute("href") ?? "")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const route = routes.find(([pattern]) => pattern.test(hash));
  const params = route ? decodedParams(route[0], hash) : null;
  if (!route || !params) {
    replace(main, el("h1", {}, "Not found"), message("note", "No page here. ", el("a", { href: "#/models" }, "See the models.")));
    return;
  }
  replace(main, el("p", { class: "loading" }, "Loading…"));
  const signal = leaving.signal;
  try {
    await route[1](main, signal, ...params);
  } catch (e) {
    // Left meanwhile (another route, or sign-in after a 401): the new page owns main now.
    if (signal.aborted) return;
    replace(main, el("h1", {}, "Something failed"), message("error", e instanceof Error ? e.message : String(e)));
  }
  if (!signal.aborted) main.focus();
}

signOut.addEventListener("click", () => {
  token.clear();
  announce("Signed out.");
  render();
});
// A token refused mid-session (rotated, or typed wrong elsewhere): back to sign-in.
whenUnauthorized(() => {
  token.clear();
  render();
});
window.addEventListener("hashchange", render);
render();
