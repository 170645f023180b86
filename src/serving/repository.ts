/**
 * @module serving/repository: reads the model repository in R2 (the "Source"): which versions of a
 * model exist, with their etags, and the model's config. Layout in docs/storage-schema.md.
 */
import { ServingError } from "../errors";
import { parseModelConfig, type ModelConfig } from "./config";

/** One published version: its object's etag identifies the bytes. */
export interface VersionEntry {
  version: number;
  etag: string;
  size: number;
  uploaded: Date;
}

/** What the repository holds for one model at one moment. */
export interface ModelSnapshot {
  name: string;
  /** Ascending by version. */
  versions: VersionEntry[];
  config: ModelConfig;
  /** Set when config.json exists but cannot be used; the model is then unavailable. */
  configError?: string;
}

/** R2 key of a version's ONNX file. */
export const modelKey = (model: string, version: number): string => `${model}/${version}/model.onnx`;
/** R2 key of a model's config. */
export const configKey = (model: string): string => `${model}/config.json`;

/** Reads models from one R2 bucket. Cheap to construct: one per request. */
export class ModelRepository {
  constructor(private readonly bucket: R2Bucket) {}

  /** Lists a model's versions and reads its config; null when it has no version. */
  async snapshot(model: string): Promise<ModelSnapshot | null> {
    const pattern = new RegExp(`^${model.replace(/[.]/g, "\\.")}/([1-9][0-9]{0,14})/model\\.onnx$`);
    const versions: VersionEntry[] = [];
    let hasConfig = false;
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix: `${model}/`, cursor, limit: 1000 });
      for (const obj of page.objects) {
        const match = pattern.exec(obj.key);
        if (match) versions.push({ version: Number(match[1]), etag: obj.etag, size: obj.size, uploaded: obj.uploaded });
        else if (obj.key === configKey(model)) hasConfig = true;
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    if (versions.length === 0) return null;
    versions.sort((a, b) => a.version - b.version);
    const snapshot: ModelSnapshot = { name: model, versions, config: {} };
    if (hasConfig) {
      const text = await (await this.bucket.get(configKey(model)))?.text();
      if (text !== undefined) {
        const parsed = parseModelConfig(text);
        if ("config" in parsed) snapshot.config = parsed.config;
        else snapshot.configError = parsed.error;
      }
    }
    return snapshot;
  }

  /**
   * Reads a version's bytes, insisting on the etag the snapshot saw, so a session is never built
   * from bytes other than the ones its cache key names.
   */
  async read(model: string, entry: VersionEntry): Promise<Uint8Array> {
    const obj = await this.bucket.get(modelKey(model, entry.version), { onlyIf: { etagMatches: entry.etag } });
    if (obj === null) {
      throw new ServingError("unavailable", `model '${model}' version ${entry.version} was removed while loading; retry`);
    }
    if (!("body" in obj)) {
      throw new ServingError("unavailable", `model '${model}' version ${entry.version} was replaced while loading; retry`);
    }
    return new Uint8Array(await obj.arrayBuffer());
  }
}
