// @ts-check
/**
 * @module pages/model-publish: publishes an .onnx file, chosen or dropped, as a new version, with
 * upload progress. The service loads it in onnxruntime first and refuses it with the reason.
 */
import { uploadVersion } from "../api.js";
import { announce, bytes, el, message, replace, section } from "../dom.js";

/**
 * @param {import("./model.js").ModelView} model
 * @param {() => Promise<void>} reload
 */
export function publishSection(model, reload) {
  const next = Math.max(0, ...model.versions.map((v) => v.version)) + 1;
  const version = el("input", { type: "number", id: "publish-version", min: 1, step: 1, value: String(next), required: true });
  const file = el("input", { type: "file", id: "publish-file", accept: ".onnx,application/octet-stream", required: true });
  const progress = el("progress", { id: "publish-progress", max: 1, value: 0, "aria-label": "Upload progress", hidden: true });
  const feedback = el("div", { id: "publish-feedback" });
  const drop = el("div", { class: "drop", id: "publish-drop" }, "…or drop an .onnx file here.");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer?.files.length) {
      file.files = e.dataTransfer.files;
      drop.textContent = `Dropped: ${e.dataTransfer.files[0]?.name ?? ""}`;
    }
  });
  const form = el(
    "form",
    { id: "publish-form", "aria-labelledby": "publish-title" },
    el("div", { class: "row" }, el("label", { for: "publish-version" }, "Version number"), version),
    el("div", { class: "row" }, el("label", { for: "publish-file" }, "ONNX file"), file),
    drop,
    el("button", { type: "submit" }, "Publish"),
    progress,
    feedback,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      replace(feedback, message("error", "Choose or drop an .onnx file first."));
      return;
    }
    progress.hidden = false;
    progress.value = 0;
    replace(feedback, el("p", { class: "loading" }, `Uploading ${chosen.name} (${bytes(chosen.size)})…`));
    try {
      const result = await uploadVersion(model.name, Number(version.value), chosen, (f) => {
        progress.value = f;
        // Once sent, the service is loading the file in onnxruntime.
        if (f >= 1) replace(feedback, el("p", { class: "loading" }, "Uploaded; onnxruntime is loading it…"));
      });
      announce(`Version ${result.version} ${result.created ? "published" : "was already there with the same bytes"}.`);
      await reload();
    } catch (err) {
      progress.hidden = true;
      replace(feedback, message("error", `Not published: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  return section(
    "publish",
    "Publish a version",
    el("p", { class: "muted" }, "The file is loaded by onnxruntime before it is written; a file it cannot load is refused with its reason, and nothing is written. Publishing does not route traffic to the new version unless it is the highest and no default or split is set."),
    form,
  );
}
