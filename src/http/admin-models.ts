/**
 * @module http/admin-models: the operators' model API (admin token only): publish and delete
 * versions, read and replace a model's config (labels, default, traffic split, shadow), and see
 * what is published, routed, loaded and shadowed. Errors are `{"error": "...", "code": "..."}`.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { adminDocs as docs } from "./openapi/admin-docs";
import { invalid, ServingError } from "../errors";
import { ModelConfigUpdateSchema } from "../serving/config";
import { sessionOptionsOf } from "../serving/session-options";
import { parseModelName, parseVersion } from "../serving/names";
import { deleteVersion, publishVersion, putConfig, type WriterStub } from "../serving/publisher";
import type { ModelSnapshot, VersionEntry } from "../serving/repository";
import { labelsOf } from "../serving/router";
import { zodMessage } from "../tensor/zod-message";
import { own } from "../own";
import { flushNow } from "../monitoring/stats-flush";
import { bodyBytes, readJson } from "./body";
import { deleteLabels, parseLabelsFile, publishLabels, readLabels } from "../serving/labels-publisher";

type C = Context<AppEnv>;

const modelOf = (c: C) => parseModelName(c.req.param("model")!);
const statsOf = (c: C, model: string) => c.env.MODEL_STATS.get(c.env.MODEL_STATS.idFromName(model));
/** The model's writer object: its config writes and version deletes take turns there. */
const writerOf = (c: C, model: string) => c.env.MODEL_WRITERS.get(c.env.MODEL_WRITERS.idFromName(model)) as unknown as WriterStub;

function versionView(c: C, snapshot: ModelSnapshot, v: VersionEntry) {
  const { config } = snapshot;
  // This isolate's session of the version as the config now builds it (another options' session is on its way out).
  const options = sessionOptionsOf(config);
  const state = c.get("service").loadStates(snapshot.name).find((s) => s.version === v.version && s.etag === v.etag && (s.options ?? "") === options);
  return {
    version: v.version,
    size: v.size,
    sha256: v.sha256 ?? null,
    etag: v.etag,
    uploaded: v.uploaded.toISOString(),
    signature: v.signature ?? null,
    labels: labelsOf(snapshot, v.version),
    traffic_weight: own(config.traffic, String(v.version)) ?? null,
    default: config.default_version === v.version,
    shadow: config.shadow?.version === v.version,
    /** In the isolate that answered: sessions are per isolate. */
    isolate_state: state?.state ?? "not_loaded",
    ...(state?.error ? { load_error: state.error } : {}),
    ...(state?.load ? { load: state.load } : {}),
    ...(state?.options ? { session_options: JSON.parse(state.options) as unknown } : {}),
    ...(c.get("service").batchStats(snapshot.name, v) ? { batching: c.get("service").batchStats(snapshot.name, v) } : {}),
  };
}

/** The version a request naming no version or label goes to, when that is one version. */
function defaultRoute(snapshot: ModelSnapshot) {
  const { config } = snapshot;
  if (config.traffic) return { kind: "traffic_split", traffic: config.traffic };
  if (config.default_version !== undefined) return { kind: "default_version", version: config.default_version };
  return { kind: "latest", version: snapshot.versions.at(-1)!.version };
}

async function modelBytes(c: C): Promise<Uint8Array> {
  const type = c.req.header("content-type") ?? "application/octet-stream";
  if (!/^application\/(octet-stream|onnx|x-onnx)\b/i.test(type) && !type.startsWith("application/vnd.onnx")) {
    throw new ServingError("unsupported_media_type", `send the ONNX file as application/octet-stream, not ${type.slice(0, 80)}`);
  }
  return bodyBytes(c);
}

/** Routes under /admin/models. */
export const adminModels = new Hono<AppEnv>()
  .get("/", docs.listModels, async (c) => {
    const repo = c.get("service").models;
    const models = [];
    for (const name of await repo.models()) {
      const snapshot = await repo.snapshot(name);
      if (!snapshot) continue; // a config without versions
      models.push({
        name,
        versions: snapshot.versions.map((v) => v.version),
        latest: snapshot.versions.at(-1)!.version,
        labels: snapshot.config.labels ?? {},
        routing: defaultRoute(snapshot),
        shadow: snapshot.config.shadow ?? null,
        ...(snapshot.configError ? { config_error: snapshot.configError } : {}),
      });
    }
    return c.json({ models });
  })
  .get("/:model", docs.getModel, async (c) => {
    const model = modelOf(c);
    const snapshot = await c.get("service").models.snapshot(model);
    if (!snapshot) throw new ServingError("not_found", `model '${model}' not found`);
    const stored = await c.get("service").models.readConfig(model);
    return c.json({
      name: model,
      config: snapshot.config,
      config_etag: stored.etag,
      ...(snapshot.configError ? { config_error: snapshot.configError } : {}),
      routing: defaultRoute(snapshot),
      versions: snapshot.versions.map((v) => versionView(c, snapshot, v)),
      shadow_stats: await statsOf(c, model).shadowStats(),
    });
  })
  .put("/:model/versions/:version", docs.publishVersion, async (c) => {
    const model = modelOf(c);
    const version = parseVersion(c.req.param("version"));
    const published = await publishVersion(c.get("service"), model, version, await modelBytes(c));
    const { entry } = published;
    const view = { model, version, sha256: published.sha256, size: entry.size, etag: entry.etag, uploaded: entry.uploaded.toISOString(), signature: published.signature ?? null, created: published.created, ...(published.firstRun ? { first_run: published.firstRun } : {}), ...(published.warmup ? { warmup: published.warmup } : {}) };
    return c.json(view, published.created ? 201 : 200);
  })
  .delete("/:model/versions/:version", docs.deleteVersion, async (c) => {
    const model = modelOf(c);
    const version = parseVersion(c.req.param("version"));
    const entry = await deleteVersion(c.get("service"), writerOf(c, model), model, version);
    return c.json({ model, version, deleted: true, sha256: entry.sha256 ?? null, size: entry.size });
  })
  .put("/:model/labels/:file", docs.publishLabels, async (c) => {
    const model = modelOf(c);
    const file = parseLabelsFile(c.req.param("file"));
    const type = c.req.header("content-type") ?? "text/plain";
    if (!/^(text\/plain|application\/octet-stream)\b/i.test(type)) {
      throw new ServingError("unsupported_media_type", `send the labels file as text/plain, one label per line, not ${type.slice(0, 80)}`);
    }
    const published = await publishLabels(c.get("service"), model, file, await bodyBytes(c));
    return c.json(published, published.created ? 201 : 200);
  })
  .get("/:model/labels/:file", docs.getLabels, async (c) => c.json(await readLabels(c.get("service"), modelOf(c), parseLabelsFile(c.req.param("file")))))
  .delete("/:model/labels/:file", docs.deleteLabels, async (c) => {
    const model = modelOf(c);
    return c.json(await deleteLabels(c.get("service"), writerOf(c, model), model, parseLabelsFile(c.req.param("file"))));
  })
  .get("/:model/config", docs.getConfig, async (c) => {
    const model = modelOf(c);
    const snapshot = await c.get("service").models.snapshot(model);
    if (!snapshot) throw new ServingError("not_found", `model '${model}' not found`);
    const stored = await c.get("service").models.readConfig(model);
    return c.json({ model, config: snapshot.config, etag: stored.etag, ...(snapshot.configError ? { config_error: snapshot.configError } : {}) }, 200, stored.etag ? { ETag: `"${stored.etag}"` } : {});
  })
  .put("/:model/config", docs.putConfig, async (c) => {
    const model = modelOf(c);
    const parsed = ModelConfigUpdateSchema.safeParse(await readJson(c));
    if (!parsed.success) throw invalid(`config refused, the old one keeps serving: ${zodMessage(parsed.error, "config")}`);
    const { etag } = await putConfig(c.get("service"), writerOf(c, model), model, parsed.data, c.req.header("if-match"));
    return c.json({ model, config: parsed.data, etag }, 200, { ETag: `"${etag}"` });
  })
  .get("/:model/drift", docs.drift, async (c) => {
    const model = modelOf(c);
    await flushNow(c);
    const raw = c.req.query("hours") ?? "24";
    if (!/^[1-9][0-9]{0,2}$/.test(raw) || Number(raw) > 168) throw invalid("hours is a whole number of hourly windows, 1 to 168");
    return c.json({ model, versions: await statsOf(c, model).driftReport(Number(raw)) });
  })
  .post("/:model/drift/baseline", docs.pinBaseline, async (c) => {
    const model = modelOf(c);
    const raw = c.req.query("version");
    if (raw === undefined) throw invalid("say which version's baseline to pin: ?version=<n>");
    const version = parseVersion(raw);
    await flushNow(c);
    const tensors = await statsOf(c, model).pinDriftBaseline(version);
    if (tensors === 0) throw new ServingError("conflict", `version ${version} of model '${model}' has no traffic to pin as a baseline yet`);
    return c.json({ model, version, tensors, pinned: true });
  })
  .get("/:model/alerts", docs.alerts, async (c) => {
    const model = modelOf(c);
    await flushNow(c);
    const snapshot = await c.get("service").models.snapshot(model);
    return c.json({ model, config: snapshot?.config.alerts ?? null, rules: await statsOf(c, model).alertStates() });
  })
  .get("/:model/shadow", docs.shadow, async (c) => {
    const model = modelOf(c);
    const snapshot = await c.get("service").models.snapshot(model);
    return c.json({ model, shadow: snapshot?.config.shadow ?? null, stats: await statsOf(c, model).shadowStats() });
  })
  .delete("/:model/shadow", docs.resetShadow, async (c) => {
    const model = modelOf(c);
    return c.json({ model, reset: await statsOf(c, model).resetShadow() });
  });
