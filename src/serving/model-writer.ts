/**
 * @module serving/model-writer: one Durable Object per model (bound as MODEL_WRITERS, named by the
 * model) through which the admin API's config writes and version deletes of that model pass, one
 * at a time. Each re-reads the repository under its turn and checks itself against what exists
 * then, so a config naming a version and a delete of that version can never both be applied.
 * The slow part of a config write (loading the versions it routes to) runs in the caller's
 * isolate first; only the check and the write happen here.
 */
import { DurableObject } from "cloudflare:workers";
import { checkConfigVersions, parseModelConfig, referencedVersions, type ModelConfig } from "./config";
import { ModelRepository, type VersionEntry } from "./repository";

/** What a write did: its result, or why it changed nothing (an admin API error code and message). */
export type WriteOutcome<T> = { ok: true; value: T } | { ok: false; code: RefusalCode; message: string };
type RefusalCode = "conflict" | "precondition_failed" | "not_found";

/** The config write a caller prepared: the config's etag it read, and the versions it loaded, by etag. */
export interface ConfigWrite {
  config: ModelConfig;
  /** The etag of config.json the caller checked against (null: there was none). */
  expectedEtag: string | null;
  /** The versions the caller loaded for the new config, with the etags it loaded. */
  loaded: { version: number; etag: string }[];
  /** The labels files the caller checked the config against, with the etags it read. */
  files?: { name: string; etag: string }[];
}

const refused = (code: RefusalCode, message: string) => ({ ok: false as const, code, message });

/** The Durable Object class bound as MODEL_WRITERS. It keeps nothing: the repository is R2. */
export class ModelWriter extends DurableObject<Env> {
  /** The write in progress (or the last one): each write starts when the one before it has ended. */
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `write` after every write that arrived before it; R2 calls would otherwise let them interleave. */
  private inTurn<T>(write: () => Promise<T>): Promise<T> {
    const run = this.tail.then(write, write);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private get repository(): ModelRepository {
    return new ModelRepository(this.env.MODELS);
  }

  /**
   * Writes `model`'s config if config.json is still the one the caller read, every version it
   * names still exists, and those it loaded are still the bytes it loaded. The new etag; 412 when
   * the config changed, 409 when the versions did.
   */
  putConfig(model: string, write: ConfigWrite): Promise<WriteOutcome<{ etag: string }>> {
    return this.inTurn(async () => {
      const repo = this.repository;
      // One read of the config per turn: the snapshot's config and its etag come from the same get.
      const snapshot = await repo.snapshot(model);
      if (!snapshot) return refused("conflict", `every version of model '${model}' was deleted meanwhile; nothing was written`);
      if ((snapshot.configEtag ?? null) !== write.expectedEtag) {
        return refused("precondition_failed", `the config of model '${model}' was changed by another request meanwhile; read it again`);
      }
      const problem = checkConfigVersions(write.config, snapshot.versions.map((v) => v.version));
      if (problem) return refused("conflict", `config refused, the old one keeps serving: a version was deleted meanwhile: ${problem}`);
      for (const { version, etag } of write.loaded) {
        if (snapshot.versions.find((v) => v.version === version)?.etag !== etag) {
          return refused("conflict", `config refused, the old one keeps serving: version ${version} of model '${model}' was replaced while it was being loaded; retry`);
        }
      }
      for (const { name, etag } of write.files ?? []) {
        if ((await repo.headFile(model, name)) !== etag) {
          return refused("conflict", `config refused, the old one keeps serving: labels file '${name}' of model '${model}' was deleted or replaced while the config was being checked; retry`);
        }
      }
      const etag = await repo.putConfig(model, write.config, write.expectedEtag);
      if (etag === null) return refused("precondition_failed", `the config of model '${model}' was changed by another request meanwhile; read it again`);
      return { ok: true, value: { etag } };
    });
  }

  /** Deletes a file beside `model`'s versions (a labels file) that its config, as it is now, does not name. */
  deleteFile(model: string, name: string): Promise<WriteOutcome<{ etag: string }>> {
    return this.inTurn(async () => {
      const repo = this.repository;
      const etag = await repo.headFile(model, name);
      if (etag === null) return refused("not_found", `model '${model}' has no labels file '${name}'`);
      const { text } = await repo.readConfig(model);
      const named = text === null ? undefined : parseModelConfig(text);
      const outputs = named && "config" in named ? Object.entries(named.config.classification?.label_files ?? {}).filter(([, file]) => file === name) : [];
      if (outputs.length > 0) {
        return refused("conflict", `labels file '${name}' of model '${model}' is named in its config for output ${outputs.map(([o]) => `'${o}'`).join(", ")}; point the config elsewhere first`);
      }
      await repo.deleteFile(model, name);
      return { ok: true, value: { etag } };
    });
  }

  /** Deletes a version of `model` that its config, as it is now, does not name. */
  deleteVersion(model: string, version: number): Promise<WriteOutcome<VersionEntry>> {
    return this.inTurn(async () => {
      const repo = this.repository;
      const snapshot = await repo.snapshot(model);
      const entry = snapshot?.versions.find((v) => v.version === version);
      if (!snapshot || !entry) return refused("not_found", `model '${model}' has no version ${version}`);
      const refs = referencedVersions(snapshot.config).filter((r) => r.version === version);
      if (refs.length > 0) {
        return refused("conflict", `version ${version} of model '${model}' is in use by its config (${refs.map((r) => r.by).join(", ")}); point those elsewhere first`);
      }
      await repo.deleteVersion(model, version);
      return { ok: true, value: entry };
    });
  }
}
