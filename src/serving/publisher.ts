/**
 * @module serving/publisher: the operators' writes to the repository. A version is loaded with
 * onnxruntime before it is written, written only if its key is free, and never changed after; a
 * config is checked against the versions that exist and the versions it newly routes to are
 * loaded before it is written, so traffic never moves to a version that cannot serve. Config
 * writes and deletes are committed by the model's writer object, one at a time (model-writer).
 */
import { ServingError, invalid, notFound } from "../errors";
import { unbatchableReason } from "./batch-axes";
import { batchedInputs } from "./signature";
import { checkConfigVersions, referencedVersions, type ModelConfig } from "./config";
import type { ModelWriter, WriteOutcome } from "./model-writer";
import { loadSession, OrtError, OrtHeapError } from "./loader";
import { probeRun } from "./probe-run";
import { sessionOptionsOf, tuningOf } from "./session-options";
import { hex } from "../hex";
import type { PutVersionResult, Signature, VersionEntry } from "./repository";
import { heapExhausted } from "./heap-exhausted";
import type { ModelService } from "./service";
import { classificationProblem, readLabelFiles } from "./classification-check";
import { warmUp } from "./version-loader";
import { WarmupError, type WarmupDone } from "./warmup";

/** The outcome of a publish, for the response. */
export interface Published {
  /** False when the identical bytes were already published under this version. */
  created: boolean;
  entry: VersionEntry;
  sha256: string;
  signature?: Signature;
  /** The publish's run on inputs of zeros; absent when the bytes were already published. */
  firstRun?: { ran: boolean; error?: string };
  /** The model's warm-up (model_warmup) on the new session; absent when the config has none. */
  warmup?: WarmupDone;
}

/** ONNX files start with a protobuf field (ModelProto.ir_version is field 1, varint: 0x08). */
const looksLikeOnnx = (bytes: Uint8Array) => bytes.byteLength > 0 && bytes[0] === 0x08;

const conflict = (model: string, version: number, existing: string | undefined, sha256: string) =>
  new ServingError(
    "conflict",
    `version ${version} of model '${model}' is already published with different bytes (sha256 ${existing ?? "unknown"}, this upload ${sha256}); versions are immutable: publish a new version number`,
  );

/** Validates `bytes` as a model and publishes them as `version` of `model`. */
export async function publishVersion(service: ModelService, model: string, version: number, bytes: Uint8Array): Promise<Published> {
  if (bytes.byteLength === 0) throw invalid("the request body is empty: send the ONNX file's bytes");
  const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));

  // An idempotent retry needs no second load; a different file under a taken version is refused early.
  const current = await service.models.snapshot(model);
  const existing = current?.versions.find((v) => v.version === version);
  if (existing?.sha256 !== undefined) {
    if (existing.sha256 !== sha256) throw conflict(model, version, existing.sha256, sha256);
    return { created: false, entry: existing, sha256, signature: existing.signature };
  }

  if (!looksLikeOnnx(bytes)) {
    throw invalid(`the body is not an ONNX model (it does not start like an ONNX protobuf); onnxruntime was not asked to load it`);
  }
  const options = sessionOptionsOf(current?.config);
  let session;
  try {
    // With the options the model's config sets, so the session can serve (its first request needs no load).
    session = await loadSession(bytes, tuningOf(options));
  } catch (e) {
    if (e instanceof OrtHeapError) throw heapExhausted("this model was not published: loading it", e);
    const reason = e instanceof Error ? e.message : String(e);
    throw invalid(`onnxruntime cannot load this model, so it was not published: ${reason}`);
  }
  const probe = await probeRun(session);
  service.noteSessionCreated(model, version);
  if ("refused" in probe) {
    await session.release();
    throw probe.refused;
  }
  const firstRun = probe.ran ? { ran: true } : { ran: false, error: probe.reason };
  // The model's warm-up runs before the version exists: one this version cannot run refuses it.
  let warmup: WarmupDone | undefined;
  if (current?.config.model_warmup) {
    try {
      warmup = await warmUp(session, current.config);
    } catch (e) {
      if (e instanceof WarmupError && e.cause instanceof OrtHeapError) throw heapExhausted("this model was not published: its warm-up", e.cause);
      throw invalid(`this model was not published: the model's config.model_warmup cannot run on it: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const signature: Signature = { inputs: [...session.inputs], outputs: [...session.outputs] };
  if (current?.config.classification) {
    // A version must fit the labels and features the model's config already names.
    try {
      const refusal = "this version was not published";
      const problem = classificationProblem(current.config, await readLabelFiles(service.models, model, current.config, refusal), version, signature);
      if (problem) throw invalid(`${refusal}: ${problem}; change the model's classification config first`);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  let result: PutVersionResult;
  try {
    result = await service.models.putVersion(model, version, bytes, { sha256, signature });
  } catch (e) {
    await session.release();
    throw e;
  }
  service.forget(model);
  if (result.status === "conflict") {
    await session.release();
    throw conflict(model, version, result.existingSha256, sha256);
  }
  if (result.status === "identical") {
    await session.release();
    return { created: false, entry: result.entry, sha256, signature: result.entry.signature ?? signature, firstRun, ...(warmup ? { warmup } : {}) };
  }
  // This isolate already holds the session: keep it, so the first request here needs no load.
  service.adopt(model, result.entry, session, options);
  return { created: true, entry: result.entry, sha256, signature, firstRun, ...(warmup ? { warmup } : {}) };
}

/** The model's writer object (serving/model-writer), through which its config writes and deletes pass. */
export type WriterStub = Pick<ModelWriter, "putConfig" | "deleteVersion" | "deleteFile">;

/** The value of a write, or the admin API error it was refused with. */
function settled<T>(outcome: WriteOutcome<T>): T {
  if (!outcome.ok) throw new ServingError(outcome.code, outcome.message);
  return outcome.value;
}

/**
 * Removes a version no label, split, default or shadow points at, as the config is when the
 * model's writer takes the delete: a config write that names the version is either before it
 * (the delete is refused) or after it (the config is refused).
 */
export async function deleteVersion(service: ModelService, writer: WriterStub, model: string, version: number): Promise<VersionEntry> {
  const entry = settled(await writer.deleteVersion(model, version));
  service.forget(model);
  return entry;
}

/**
 * Replaces a model's config. Refused whole, with the old config left serving, when it names a
 * version that does not exist, when a version it newly routes to cannot be loaded, or when the
 * config changed since `ifMatch` (or since it was read). The versions are loaded here; the model's
 * writer then checks again, in turn with the model's other writes, before writing.
 */
export async function putConfig(service: ModelService, writer: WriterStub, model: string, config: ModelConfig, ifMatch?: string): Promise<{ etag: string }> {
  const snapshot = await service.models.snapshot(model);
  if (!snapshot) throw notFound(`model '${model}' not found: publish a version before configuring it`);
  const problem = checkConfigVersions(config, snapshot.versions.map((v) => v.version));
  if (problem) throw invalid(`config refused, the old one keeps serving: ${problem}`);
  const files = await readLabelFiles(service.models, model, config, "config refused, the old one keeps serving");

  const stored = await service.models.readConfig(model);
  if (ifMatch !== undefined && ifMatch.replace(/^W\//, "").replace(/"/g, "") !== (stored.etag ?? "")) {
    throw new ServingError("precondition_failed", `the config of model '${model}' changed since it was read (If-Match does not match); read it again`);
  }

  // Load every version the new config serves before writing it: traffic moves only to versions that load.
  const serving = new Set(referencedVersions(config).map((r) => r.version));
  if (config.default_version === undefined && !config.traffic) serving.add(snapshot.versions.at(-1)!.version);
  for (const version of serving) {
    const entry = snapshot.versions.find((v) => v.version === version)!;
    let signature;
    try {
      signature = await service.warm(model, entry);
    } catch (e) {
      if (e instanceof ServingError && e.code === "resource_exhausted") throw e;
      const reason = e instanceof ServingError && e.cause instanceof OrtError ? e.cause.message : e instanceof Error ? e.message : String(e);
      throw new ServingError("conflict", `config refused, the old one keeps serving: version ${version} cannot be loaded: ${reason}`);
    }
    if (config.max_batch_size !== undefined && batchedInputs(signature.inputs, config.dynamic_batching).length === 0) {
      throw invalid(
        `config refused, the old one keeps serving: max_batch_size needs an input of version ${version} with a dynamic batch dimension (the first, or the one dynamic_batching.batch_axes names); it has none`,
      );
    }
    if (config.model_warmup) {
      try {
        await service.warmUpWith(model, entry, config);
      } catch (e) {
        if (!(e instanceof WarmupError)) throw e;
        throw invalid(`config refused, the old one keeps serving: model_warmup cannot run on version ${version}: ${e.message}`);
      }
    }
    const unbatchable = config.dynamic_batching ? unbatchableReason(signature.inputs, signature.outputs, config.dynamic_batching) : null;
    if (unbatchable) {
      throw invalid(
        `config refused, the old one keeps serving: dynamic_batching needs every input (but unbatched_inputs) and output of version ${version} to have a dynamic batch dimension (the first, or the one batch_axes names): ${unbatchable}`,
      );
    }
    const unfit = classificationProblem(config, files, version, signature);
    if (unfit) throw invalid(`config refused, the old one keeps serving: ${unfit}`);
  }
  // Versions the config does not route to are still asked for by number: check their recorded signatures too.
  for (const entry of snapshot.versions) {
    const unfit = !serving.has(entry.version) && entry.signature ? classificationProblem(config, files, entry.version, entry.signature) : null;
    if (unfit) throw invalid(`config refused, the old one keeps serving: ${unfit}`);
  }
  const loaded = [...serving].map((version) => ({ version, etag: snapshot.versions.find((v) => v.version === version)!.etag }));
  const written = settled(await writer.putConfig(model, { config, expectedEtag: stored.etag, loaded, ...(files.etags.length > 0 ? { files: files.etags } : {}) }));
  service.forget(model);
  return written;
}
