// @ts-check
/** @module pages/sign-in: asks for the admin token and keeps it only once the service accepts it. */
import { admin, ApiError, token } from "../api.js";
import { el, message, replace } from "../dom.js";

/**
 * @param {HTMLElement} main
 * @param {() => void} signedIn
 */
export function signInPage(main, signedIn) {
  const input = el("input", { id: "admin-token", name: "admin-token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const feedback = el("div", { id: "sign-in-feedback" });
  const form = el(
    "form",
    { id: "sign-in", class: "panel narrow", "aria-labelledby": "sign-in-title" },
    el("h1", { id: "sign-in-title" }, "Sign in"),
    el("p", {}, "The console calls the admin API with the service's ADMIN_TOKEN. It is kept in this tab's session storage only, and forgotten when the tab closes or you sign out."),
    el("label", { for: "admin-token" }, "Admin token"),
    input,
    el("button", { type: "submit" }, "Sign in"),
    feedback,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = input.value.trim();
    replace(feedback, el("p", { class: "loading" }, "Checking…"));
    try {
      // Any admin route checks the token; the model list is cheap.
      await admin("GET", "/models", { token: value });
      token.set(value);
      signedIn();
    } catch (err) {
      const refused = err instanceof ApiError && err.status === 401;
      replace(feedback, message("error", refused ? "The service refused this token." : `Could not sign in: ${err instanceof Error ? err.message : String(err)}`));
      input.focus();
    }
  });
  replace(main, form);
  input.focus();
}
