/**
 * @module serving/repository: the model repository in R2 (the "Source"): which versions of a model
 * exist, with their etags and recorded metadata, the model's config, and the conditional writes
 * that publish and retire versions. Layout in docs/storage-schema.md.
 */
import { ServingError } from "../errors";
import { hex } from "../hex";
import type { BytesCache, BytesSource } from "./bytes-cache";
import { parseModelConfig, type ModelConfig } from "./config";
import type { TensorSpec } from "./loader";

/** Inputs and outputs of a version, as recorded when it was published. */
export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** One published version: its object's etag identifies the bytes. */
export interface VersionEntry {
  version: number;
  etag: string;
  size: number;
  uploaded: Date;
  /** Recorded by the admin API on publish; absent for objects put into R2 by other means. */
  sha256?: string;
  signature?: Signature;
}

/** What the repository holds for one model at one moment. */
export interface ModelSnapshot {
  name: string;
  /** Ascending by version. */
  versions: VersionEntry[];
  config: ModelConfig;
  /** The etag of config.json as read for `config` (null or absent: there is none). */
  configEtag?: string | null;
  /** Set when config.json exists but cannot be used; the model is then unavailable. */
  configError?: string;
  /** Other objects beside the versions and config (labels files): name → etag. */
  files?: Record<string, string>;
}

/** R2 key of a version's ONNX file. */
export const modelKey = (model: string, version: number): string => `${model}/${version}/model.onnx`;
/** R2 key of a model's config. */
export const configKey = (model: string): string => `${model}/config.json`;
/** R2 key of a file beside a model's versions (a labels file). */
export const fileKey = (model: string, name: string): string => `${model}/${name}`;

/** Custom metadata of a published version's object (docs/storage-schema.md). */
export interface VersionMetadata {
  sha256: string;
  signature: Signature;
}

/** R2 limits an object's metadata to 8 KiB; a longer signature is not recorded (it is read from the model). */
const MAX_SIGNATURE_CHARS = 6000;

function metadataOf(custom: Record<string, string> | undefined): Pick<VersionEntry, "sha256" | "signature"> {
  const out: Pick<VersionEntry, "sha256" | "signature"> = {};
  if (custom?.sha256) out.sha256 = custom.sha256;
  if (custom?.signature) {
    try {
      out.signature = JSON.parse(custom.signature) as Signature;
    } catch {
      // written by something else: leave it out
    }
  }
  return out;
}

/** The outcome of publishing a version. */
export type PutVersionResult =
  | { status: "created"; entry: VersionEntry }
  /** The same bytes were already published (idempotent retry). */
  | { status: "identical"; entry: VersionEntry }
  /** Different bytes are published under this version; versions are immutable. */
  | { status: "conflict"; existingSha256: string | undefined };

/** A model's config object as stored, with the etag a conditional write must match. */
export interface StoredConfig {
  text: string | null;
  etag: string | null;
}

/** Reads and writes models in one R2 bucket. Cheap to construct: one per request. */
export class ModelRepository {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly cache?: BytesCache,
  ) {}

  /** Names of the models that have at least one object, ascending. */
  async models(): Promise<string[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ delimiter: "/", cursor, limit: 1000 });
      for (const prefix of page.delimitedPrefixes) names.push(prefix.slice(0, -1));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return names.sort();
  }

  /** Lists a model's versions and reads its config; null when it has no version. */
  async snapshot(model: string): Promise<ModelSnapshot | null> {
    const pattern = new RegExp(`^${model.replace(/[.]/g, "\\.")}/([1-9][0-9]{0,14})/model\\.onnx$`);
    const versions: VersionEntry[] = [];
    const files: Record<string, string> = {};
    let hasConfig = false;
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix: `${model}/`, cursor, limit: 1000, include: ["customMetadata"] });
      for (const obj of page.objects) {
        const match = pattern.exec(obj.key);
        if (match) {
          versions.push({ version: Number(match[1]), etag: obj.etag, size: obj.size, uploaded: obj.uploaded, ...metadataOf(obj.customMetadata) });
        } else if (obj.key === configKey(model)) hasConfig = true;
        else if (!obj.key.slice(model.length + 1).includes("/")) files[obj.key.slice(model.length + 1)] = obj.etag;
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    if (versions.length === 0) return null;
    versions.sort((a, b) => a.version - b.version);
    const snapshot: ModelSnapshot = { name: model, versions, config: {}, configEtag: null, ...(Object.keys(files).length > 0 ? { files } : {}) };
    if (hasConfig) {
      const obj = await this.bucket.get(configKey(model));
      const text = await obj?.text();
      if (obj && text !== undefined) {
        snapshot.configEtag = obj.etag;
        const parsed = parseModelConfig(text);
        if ("config" in parsed) snapshot.config = parsed.config;
        else snapshot.configError = parsed.error;
      }
    }
    return snapshot;
  }

  /**
   * Reads a version's bytes, insisting on the etag the snapshot saw, so a session is never built
   * from bytes other than the ones its cache key names. The data centre's cache is tried first.
   */
  async read(model: string, entry: VersionEntry): Promise<{ bytes: Uint8Array; source: BytesSource }> {
    const cached = await this.cache?.get(model, entry.version, entry.etag);
    if (cached && cached.byteLength === entry.size) return { bytes: cached, source: "cache" };
    const obj = await this.bucket.get(modelKey(model, entry.version), { onlyIf: { etagMatches: entry.etag } });
    if (obj === null) {
      throw new ServingError("unavailable", `model '${model}' version ${entry.version} was removed while loading; retry`);
    }
    if (!("body" in obj)) {
      throw new ServingError("unavailable", `model '${model}' version ${entry.version} was replaced while loading; retry`);
    }
    const bytes = new Uint8Array(await obj.arrayBuffer());
    this.cache?.put(model, entry.version, entry.etag, bytes);
    return { bytes, source: "r2" };
  }

  /**
   * Writes a version's bytes only if the key is free (R2 checks this atomically), so two
   * publishes of one version can never overwrite each other. R2 verifies the SHA-256 on write.
   */
  async putVersion(model: string, version: number, bytes: Uint8Array, meta: VersionMetadata): Promise<PutVersionResult> {
    const signature = JSON.stringify(meta.signature);
    const customMetadata: Record<string, string> = { sha256: meta.sha256 };
    if (signature.length <= MAX_SIGNATURE_CHARS) customMetadata.signature = signature;
    const put = await this.putOnce(modelKey(model, version), bytes, meta.sha256, customMetadata, "application/octet-stream", `version ${version} of model '${model}'`);
    const object = "written" in put ? put.written : put.existing;
    const entry: VersionEntry = { version, etag: object.etag, size: object.size, uploaded: object.uploaded, ...metadataOf(object.customMetadata) };
    if ("written" in put) return { status: "created", entry };
    return put.existingSha256 === meta.sha256 ? { status: "identical", entry } : { status: "conflict", existingSha256: put.existingSha256 };
  }

  /**
   * Writes `bytes` under `key` only if it is free (R2 checks this atomically, and verifies the
   * SHA-256). When it is taken, gives the object there and its SHA-256.
   */
  private async putOnce(key: string, bytes: Uint8Array, sha256: string, customMetadata: Record<string, string>, contentType: string, what: string): Promise<{ written: R2Object } | { existing: R2Object; existingSha256: string | undefined }> {
    const written = await this.bucket.put(key, bytes, { onlyIf: { etagDoesNotMatch: "*" }, sha256, customMetadata, httpMetadata: { contentType } });
    if (written) return { written };
    const existing = await this.bucket.head(key);
    if (!existing) throw new ServingError("conflict", `${what} is being changed by another request; retry`);
    return { existing, existingSha256: existing.customMetadata?.sha256 ?? (await this.sha256Of(key)) };
  }

  private async sha256Of(key: string): Promise<string | undefined> {
    const obj = await this.bucket.get(key);
    if (!obj) return undefined;
    return hex(await crypto.subtle.digest("SHA-256", await obj.arrayBuffer()));
  }

  /** Removes a version's file. */
  async deleteVersion(model: string, version: number): Promise<void> {
    await this.bucket.delete(modelKey(model, version));
  }

  /** A file beside the model's versions, if it is still the object with `etag` (when given); null when it is not. */
  async readFile(model: string, name: string, etag?: string): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const obj = await this.bucket.get(fileKey(model, name), etag === undefined ? {} : { onlyIf: { etagMatches: etag } });
    if (obj === null || !("body" in obj)) return null;
    return { bytes: new Uint8Array(await obj.arrayBuffer()), etag: obj.etag };
  }

  /**
   * Writes a file beside the model's versions only if its key is free, like a version: "created",
   * "identical" when the same bytes are there, or "conflict" when other bytes are.
   */
  async putFile(model: string, name: string, bytes: Uint8Array, sha256: string, contentType: string): Promise<{ status: "created" | "identical" | "conflict"; etag: string; existingSha256?: string }> {
    const put = await this.putOnce(fileKey(model, name), bytes, sha256, { sha256 }, contentType, `file '${name}' of model '${model}'`);
    if ("written" in put) return { status: "created", etag: put.written.etag };
    const { existing, existingSha256 } = put;
    return { status: existingSha256 === sha256 ? "identical" : "conflict", etag: existing.etag, ...(existingSha256 ? { existingSha256 } : {}) };
  }

  /** The etag of a file beside the model's versions, or null when there is none. */
  async headFile(model: string, name: string): Promise<string | null> {
    return (await this.bucket.head(fileKey(model, name)))?.etag ?? null;
  }

  /** Removes a file beside the model's versions. */
  async deleteFile(model: string, name: string): Promise<void> {
    await this.bucket.delete(fileKey(model, name));
  }

  /** The config object as stored, with its etag. */
  async readConfig(model: string): Promise<StoredConfig> {
    const obj = await this.bucket.get(configKey(model));
    return obj ? { text: await obj.text(), etag: obj.etag } : { text: null, etag: null };
  }

  /**
   * Replaces the config only if it is still the one read (etag), or absent when `expected` is
   * null: the new etag, or null when a concurrent change got there first (nothing is written).
   */
  async putConfig(model: string, config: ModelConfig, expected: string | null): Promise<string | null> {
    const written = await this.bucket.put(configKey(model), JSON.stringify(config, null, 2) + "\n", {
      onlyIf: expected === null ? { etagDoesNotMatch: "*" } : { etagMatches: expected },
      httpMetadata: { contentType: "application/json" },
    });
    return written?.etag ?? null;
  }
}
