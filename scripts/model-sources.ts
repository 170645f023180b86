/**
 * The demo repository: every object to put in the MODELS bucket, with the local file it comes
 * from. models/ is laid out like the bucket; third-party pretrained models come from npm packages
 * (never copied into the repo, never bundled into the Worker). Used by `npm start` and the tests.
 */
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** One bucket object and the file holding its bytes. */
export interface ModelSource {
  key: string;
  file: string;
}

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Pretrained models taken from npm packages: Silero VAD (MIT) from @ricky0123/vad-web. */
const THIRD_PARTY: ModelSource[] = [
  { key: "silero-vad/1/model.onnx", file: "node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx" },
  { key: "silero-vad/config.json", file: "models/third-party/silero-vad.config.json" },
];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Every object of the demo repository. */
export function modelSources(): ModelSource[] {
  const models = join(projectRoot, "models");
  const own = walk(models)
    .map((file) => relative(models, file).split(sep).join("/"))
    .filter((key) => !key.startsWith("third-party/") && /^[^/]+\/(config\.json|[1-9][0-9]*\/model\.onnx)$/.test(key))
    .map((key) => ({ key, file: join(models, key) }));
  return [...own, ...THIRD_PARTY.map((s) => ({ key: s.key, file: join(projectRoot, s.file) }))];
}

/** Model files that are not in the repository but are published by operators and tests (`candidates/<file>`). */
export function candidateSources(): ModelSource[] {
  const dir = join(projectRoot, "models", "candidates");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".onnx"))
    .map((name) => ({ key: `candidates/${name}`, file: join(dir, name) }));
}
