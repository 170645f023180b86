/**
 * @module serving/labels-publisher: the operators' writes of labels files. A labels file is
 * published like a version: checked first, written only if its name is free, never changed after;
 * deleted only when the model's config names it for no output (in turn at the model's writer).
 */
import { invalid, notFound, ServingError } from "../errors";
import { hex } from "../hex";
import { labelsOf } from "./class-labels";
import { LABELS_FILE } from "./classification-config";
import type { WriterStub } from "./publisher";
import type { ModelService } from "./service";

/** What a publish of a labels file did, for the response. */
export interface PublishedLabels {
  model: string;
  file: string;
  labels: number;
  sha256: string;
  etag: string;
  /** False when the identical bytes were already published under this name. */
  created: boolean;
}

/** A labels file's name, checked. */
export function parseLabelsFile(name: string): string {
  if (!LABELS_FILE.test(name)) throw invalid(`'${name.slice(0, 80)}' is not a labels file name: letters, digits, '_', '.' or '-', starting with a letter or digit, ending in .txt`);
  return name;
}

/** Checks `bytes` as a labels file (one label per line) and publishes them as `name` beside `model`'s versions. */
export async function publishLabels(service: ModelService, model: string, name: string, bytes: Uint8Array): Promise<PublishedLabels> {
  if (!(await service.models.snapshot(model))) throw notFound(`model '${model}' not found: publish a version before its labels`);
  const labels = labelsOf(bytes);
  const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
  const result = await service.models.putFile(model, name, bytes, sha256, "text/plain; charset=utf-8");
  if (result.status === "conflict") {
    throw new ServingError(
      "conflict",
      `labels file '${name}' of model '${model}' is already published with different bytes (sha256 ${result.existingSha256 ?? "unknown"}, this upload ${sha256}); labels files are immutable: publish under a new name and point the config at it`,
    );
  }
  service.forget(model);
  return { model, file: name, labels: labels.length, sha256, etag: result.etag, created: result.status === "created" };
}

/** The labels of a published file. */
export async function readLabels(service: ModelService, model: string, name: string): Promise<{ model: string; file: string; etag: string; labels: string[] }> {
  const read = await service.models.readFile(model, name);
  if (!read) throw notFound(`model '${model}' has no labels file '${name}'`);
  return { model, file: name, etag: read.etag, labels: labelsOf(read.bytes) };
}

/** Deletes a labels file the model's config names for no output. */
export async function deleteLabels(service: ModelService, writer: WriterStub, model: string, name: string): Promise<{ model: string; file: string; deleted: true }> {
  const outcome = await writer.deleteFile(model, name);
  if (!outcome.ok) throw new ServingError(outcome.code, outcome.message);
  service.forget(model);
  return { model, file: name, deleted: true };
}
