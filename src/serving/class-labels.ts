/**
 * @module serving/class-labels: labels files (Triton's convention: one label per line, line i
 * naming class i), stored beside a model as `<model>/<name>.txt` and named in its config for an
 * output. Parsed, checked against an output's class count, and kept per isolate by etag.
 */
import { invalid, ServingError } from "../errors";
import { own } from "../own";
import type { LabelsCache } from "./labels-cache";
import type { ModelRepository, ModelSnapshot } from "./repository";

/** The largest labels file taken: ImageNet's thousand labels are about 30 KB. */
export const MAX_LABELS_BYTES = 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The labels of a file's bytes, or why they are not a labels file. */
export function parseLabels(bytes: Uint8Array): string[] | { error: string } {
  if (bytes.byteLength === 0) return { error: "the labels file is empty; it holds one label per line" };
  if (bytes.byteLength > MAX_LABELS_BYTES) return { error: `the labels file has ${bytes.byteLength} bytes; at most ${MAX_LABELS_BYTES} are taken` };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { error: "the labels file is not UTF-8 text" };
  }
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop(); // the final line's newline
  const blank = lines.findIndex((l) => l.trim() === "");
  if (blank >= 0) return { error: `line ${blank + 1} of the labels file is blank; every line names the class of its index` };
  return lines;
}

/** The most bytes of labels files an isolate keeps parsed: a few files of the largest size. */
export const MAX_CACHED_LABELS_BYTES = 4 * MAX_LABELS_BYTES;

/** Where labels come from: the repository, through the isolate's cache of the files requests used lately. */
export interface LabelsSource {
  repo: ModelRepository;
  cache: LabelsCache;
}

/**
 * The labels named in the snapshot's config for `output`, or undefined when it names none. 503
 * when the file is missing or unreadable: the operator's repository is wrong (the admin API
 * refuses such configs).
 */
export async function labelsFor({ repo, cache }: LabelsSource, snapshot: ModelSnapshot, output: string): Promise<string[] | undefined> {
  const file = own(snapshot.config.classification?.label_files, output);
  if (file === undefined) return undefined;
  const etag = snapshot.files?.[file];
  const missing = () => new ServingError("unavailable", `model '${snapshot.name}': labels file '${file}' named for output '${output}' is not in the repository`);
  if (etag === undefined) throw missing();
  return cache.get(`${snapshot.name}\u0000${file}\u0000${etag}`, async () => {
    const read = await repo.readFile(snapshot.name, file, etag);
    if (!read) throw missing();
    const labels = parseLabels(read.bytes);
    if (!Array.isArray(labels)) throw new ServingError("unavailable", `model '${snapshot.name}': labels file '${file}': ${labels.error}`);
    return { labels, bytes: read.bytes.byteLength };
  });
}

/** The labels of a file as published (for the admin API): 400 when the bytes are no labels file. */
export function labelsOf(bytes: Uint8Array): string[] {
  const labels = parseLabels(bytes);
  if (!Array.isArray(labels)) throw invalid(`labels refused, nothing was written: ${labels.error}`);
  return labels;
}
