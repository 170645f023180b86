// @ts-check
/**
 * @module config-write: writes a model's config conditionally. Every edit starts from the config
 * the page read and sends that read's etag as If-Match, so a change someone made in between is
 * refused (and shown) instead of being overwritten.
 */
import { admin, ApiError, enc } from "./api.js";
import { announce, el, message, replace } from "./dom.js";

/**
 * @param {{ name: string, config: any, config_etag: string | null }} model as the page read it
 * @param {(config: any) => void} edit changes a copy of the config
 * @param {HTMLElement} feedback where the outcome is shown
 * @param {() => Promise<void>} reload re-reads the page
 * @param {string} what the edit, for messages ("split")
 */
export async function writeConfig(model, edit, feedback, reload, what) {
  const config = structuredClone(model.config);
  edit(config);
  // A model with no config.json yet has no etag: If-Match "" still makes the write conditional.
  const ifMatch = `"${model.config_etag ?? ""}"`;
  replace(feedback, el("p", { class: "loading" }, `Saving the ${what}…`));
  try {
    await admin("PUT", `/models/${enc(model.name)}/config`, { body: config, headers: { "if-match": ifMatch } });
    announce(`The ${what} was saved.`);
    await reload();
  } catch (e) {
    if (e instanceof ApiError && e.isConflict) {
      replace(
        feedback,
        message(
          "error",
          `Conflict (HTTP ${e.status}): the config changed since this page read it, so your ${what} was not written. `,
          "Reload to see the current config, then make the edit again. ",
          el("button", { type: "button", onclick: () => reload() }, "Reload"),
        ),
      );
    } else {
      replace(feedback, message("error", `The ${what} was refused: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
}
