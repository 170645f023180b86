/**
 * @module admin-client: the operators' API (admin token): models and versions, their config
 * (labels, split, default, shadow, batching), tenants, keys, usage, drift, alerts, the isolate.
 * Only calls that are safe to repeat are retried: reads, and PUTs of a whole resource.
 */
import type { Classification, PublishedLabels, DynamicBatching, CreatedKey, Deleted, KeyView, ModelConfig, ModelDetail, ModelSummary, Published, StoredConfig, Tenant, TenantPolicy, UsageDay } from "./admin-types.js";
import { PreconditionFailedError } from "./errors.js";
import { readJson, seg, Transport, type CallOptions, type ConnectionOptions } from "./transport.js";

export interface AdminClientOptions extends ConnectionOptions {
  /** The deployment's ADMIN_TOKEN. */
  token: string;
}

/** Bytes sent so far of a model upload, and how many there are (undefined when unknown). */
export type Progress = (sent: number, total: number | undefined) => void;

export interface PublishOptions extends CallOptions {
  /** The upload's size, for the progress callback when the data is a stream. */
  size?: number;
  onProgress?: Progress;
}

/** An edit of a config: change it in place, or return a new one. */
export type ConfigEdit = (config: ModelConfig) => ModelConfig | void;

const m = (model: string) => `/admin/models/${seg(model)}`;
const t = (tenant: string) => `/admin/tenants/${seg(tenant)}`;

/** `record` with `changes` made (null removes a key); undefined when nothing is left. */
function patched<T>(record: Readonly<Record<string, T>> | undefined, changes: Readonly<Record<string, T | null>>): Record<string, T> | undefined {
  const next = { ...record };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return Object.keys(next).length ? next : undefined;
}

/** A write refused because the config changed since it was read (a 412), never told by its message's wording. */
const isStaleWrite = (e: unknown): boolean => e instanceof PreconditionFailedError;

export class AdminClient {
  /** #private: it holds the key. */
  readonly #transport: Transport;

  constructor(options: AdminClientOptions) {
    this.#transport = new Transport(options, options.token);
  }

  // ---- models and versions ----

  async models(options: CallOptions = {}): Promise<ModelSummary[]> {
    return (await this.get<{ models: ModelSummary[] }>("/admin/models", options)).models;
  }

  /** A model's config, routing, and every version's size, sha256, signature and loaded state. */
  model(model: string, options: CallOptions = {}): Promise<ModelDetail> {
    return this.get(m(model), options);
  }

  /**
   * Publishes a version from bytes or a stream (validated by onnxruntime before it is stored).
   * Bytes go with their length and may be retried (the same bytes again are a 200); a stream is
   * sent once, with `onProgress` told as it is read.
   */
  async publishVersion(model: string, version: number | string, data: Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>, options: PublishOptions = {}): Promise<Published> {
    const stream = typeof ReadableStream !== "undefined" && data instanceof ReadableStream;
    const total = stream ? options.size : data instanceof Blob ? data.size : (data as ArrayBuffer | Uint8Array).byteLength;
    options.onProgress?.(0, total);
    const body: RequestInit["body"] = stream ? counted(data, total, options.onProgress) : (data as Blob | Uint8Array<ArrayBuffer> | ArrayBuffer);
    const response = await this.#transport.send({
      ...options,
      method: "PUT",
      path: `${m(model)}/versions/${seg(version)}`,
      body,
      headers: { "content-type": "application/octet-stream", ...options.headers },
      retryable: !stream,
    });
    const published = await readJson<Published>(response);
    if (!stream) options.onProgress?.(total ?? 0, total);
    return published;
  }

  /** Deletes a version nothing routes to. */
  async deleteVersion(model: string, version: number | string, options: CallOptions = {}): Promise<Deleted> {
    return readJson(await this.#transport.send({ ...options, method: "DELETE", path: `${m(model)}/versions/${seg(version)}`, retryable: false }));
  }

  // ---- config ----

  getConfig(model: string, options: CallOptions = {}): Promise<StoredConfig> {
    return this.get(`${m(model)}/config`, options);
  }

  /**
   * Replaces the config; with `ifMatch` (the etag read before, null when there was no config),
   * only if nobody changed it since.
   */
  async putConfig(model: string, config: ModelConfig, options: CallOptions & { ifMatch?: string | null } = {}): Promise<StoredConfig> {
    const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
    // The service takes an empty entity tag as "no config yet", so a config created meanwhile is a conflict too.
    if (options.ifMatch !== undefined) headers["if-match"] = `"${options.ifMatch ?? ""}"`;
    const response = await this.#transport.send({ ...options, method: "PUT", path: `${m(model)}/config`, body: JSON.stringify(config), headers, retryable: true });
    return readJson(response);
  }

  /**
   * Read-modify-write: reads the config and its etag, applies `edit`, and writes it back with
   * If-Match; when someone else changed it in between, reads and edits again (up to `attempts`).
   */
  async updateConfig(model: string, edit: ConfigEdit, options: CallOptions & { attempts?: number } = {}): Promise<StoredConfig> {
    const attempts = options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const current = await this.getConfig(model, options);
      const config = structuredClone(current.config ?? {});
      const edited = edit(config) ?? config;
      try {
        return await this.putConfig(model, edited, { ...options, ifMatch: current.etag });
      } catch (e) {
        if (attempt >= attempts || !isStaleWrite(e)) throw e;
      }
    }
  }

  /** Sets or removes labels: `{ canary: 2, old: null }`. */
  setLabels(model: string, labels: Record<string, number | null>, options: CallOptions = {}): Promise<StoredConfig> {
    return this.updateConfig(
      model,
      (c) => {
        const next = patched(c.labels, labels);
        if (next) c.labels = next;
        else delete c.labels;
      },
      options,
    );
  }

  /** Splits unlabelled traffic (weights summing to 100), or stops splitting (null). */
  setSplit(model: string, traffic: Record<string, number> | null, options: CallOptions = {}): Promise<StoredConfig> {
    return this.updateConfig(model, (c) => setOrDelete(c, "traffic", traffic), options);
  }

  /** Sends unlabelled traffic to one version (clearing a split). */
  setDefault(model: string, version: number, options: CallOptions = {}): Promise<StoredConfig> {
    return this.updateConfig(
      model,
      (c) => {
        c.default_version = version;
        delete c.traffic;
      },
      options,
    );
  }

  /** Mirrors `percent` of traffic to a version after each response, or stops (null). */
  setShadow(model: string, shadow: { version: number; percent: number } | null, options: CallOptions = {}): Promise<StoredConfig> {
    return this.updateConfig(model, (c) => setOrDelete(c, "shadow", shadow), options);
  }

  /** Joins concurrent requests into one run, or stops (null). */
  setBatching(model: string, batching: DynamicBatching | null, options: CallOptions = {}): Promise<StoredConfig> {
    return this.updateConfig(model, (c) => setOrDelete(c, "dynamic_batching", batching), options);
  }

  // ---- classification ----

  /**
   * Publishes a labels file beside the model (one label per line, line i naming class i), checked
   * first and never changed after: the same labels again are a 200, others a 409.
   */
  async publishLabels(model: string, file: string, labels: readonly string[] | string | Uint8Array, options: CallOptions = {}): Promise<PublishedLabels> {
    const body = typeof labels === "string" || labels instanceof Uint8Array ? (labels as string | Uint8Array<ArrayBuffer>) : labels.join("\n") + "\n";
    const response = await this.#transport.send({ ...options, method: "PUT", path: `${m(model)}/labels/${seg(file)}`, body, headers: { "content-type": "text/plain; charset=utf-8", ...options.headers }, retryable: true });
    return readJson(response);
  }

  /** The labels of a published labels file. */
  labels(model: string, file: string, options: CallOptions = {}): Promise<{ model: string; file: string; etag: string; labels: string[] }> {
    return this.get(`${m(model)}/labels/${seg(file)}`, options);
  }

  /** Deletes a labels file the config names for no output. */
  async deleteLabels(model: string, file: string, options: CallOptions = {}): Promise<{ model: string; file: string; deleted: true }> {
    return readJson(await this.#transport.send({ ...options, method: "DELETE", path: `${m(model)}/labels/${seg(file)}`, retryable: false }));
  }

  /** Names a published labels file for an output, or stops labelling it (null); refused unless the counts match. */
  setLabelFile(model: string, output: string, file: string | null, options: CallOptions = {}): Promise<StoredConfig> {
    return this.updateConfig(model, (c) => editClassification(c, (k) => {
      k.label_files = patched(k.label_files, { [output]: file });
    }), options);
  }

  /** Names the features of the one input for `:classify` (and the scores output, if the service cannot tell), or stops (null). */
  setFeatures(model: string, features: string[] | null, scores?: string, options: CallOptions = {}): Promise<StoredConfig> {
    return this.updateConfig(model, (c) => editClassification(c, (k) => {
      k.features = features ?? undefined;
      k.scores = features === null ? undefined : (scores ?? k.scores);
    }), options);
  }

  shadowStats(model: string, options: CallOptions = {}): Promise<{ model: string; shadow: unknown; stats: unknown }> {
    return this.get(`${m(model)}/shadow`, options);
  }

  /** Clears the shadow figures (not retried: it is a reset). */
  async resetShadow(model: string, options: CallOptions = {}): Promise<{ model: string; reset: unknown }> {
    return readJson(await this.#transport.send({ ...options, method: "DELETE", path: `${m(model)}/shadow`, retryable: false }));
  }

  // ---- monitoring ----

  /** Drift per version and tensor over the last `hours` hourly windows (default 24). */
  drift(model: string, options: CallOptions & { hours?: number } = {}): Promise<{ model: string; versions: unknown[] }> {
    return this.get(`${m(model)}/drift${options.hours === undefined ? "" : `?hours=${options.hours}`}`, options);
  }

  /** Pins a version's recent traffic as the drift baseline (not retried). */
  async pinDriftBaseline(model: string, version: number, options: CallOptions = {}): Promise<{ model: string; version: number; tensors: number; pinned: true }> {
    return readJson(await this.#transport.send({ ...options, method: "POST", path: `${m(model)}/drift/baseline?version=${seg(version)}`, retryable: false }));
  }

  alerts(model: string, options: CallOptions = {}): Promise<{ model: string; config: unknown; rules: unknown[] }> {
    return this.get(`${m(model)}/alerts`, options);
  }

  /** The isolate that answers: onnxruntime's state and heap, sessions, request memory. */
  isolate(options: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.get("/admin/isolate", options);
  }

  // ---- tenants and keys ----

  /** Creates or replaces a tenant's policy. */
  async putTenant(tenant: string, policy: TenantPolicy, options: CallOptions = {}): Promise<Tenant> {
    const response = await this.#transport.send({ ...options, method: "PUT", path: t(tenant), body: JSON.stringify(policy), headers: { "content-type": "application/json", ...options.headers }, retryable: true });
    return readJson(response);
  }

  getTenant(tenant: string, options: CallOptions = {}): Promise<Tenant> {
    return this.get(t(tenant), options);
  }

  /** Creates a key; its secret (`key`) is in this answer only. Never retried: a retry would make a second key. */
  async createKey(tenant: string, request: { name?: string; expiresAt?: string; expiresInSeconds?: number } = {}, options: CallOptions = {}): Promise<CreatedKey> {
    const body: Record<string, unknown> = {};
    if (request.name !== undefined) body.name = request.name;
    if (request.expiresAt !== undefined) body.expires_at = request.expiresAt;
    if (request.expiresInSeconds !== undefined) body.expires_in_seconds = request.expiresInSeconds;
    const response = await this.#transport.send({ ...options, method: "POST", path: `${t(tenant)}/keys`, body: JSON.stringify(body), headers: { "content-type": "application/json", ...options.headers }, retryable: false });
    return readJson(response);
  }

  async listKeys(tenant: string, options: CallOptions = {}): Promise<KeyView[]> {
    return (await this.get<{ keys: KeyView[] }>(`${t(tenant)}/keys`, options)).keys;
  }

  /** Revokes a key at once. */
  async revokeKey(tenant: string, id: string, options: CallOptions = {}): Promise<KeyView> {
    return readJson(await this.#transport.send({ ...options, method: "DELETE", path: `${t(tenant)}/keys/${seg(id)}`, retryable: false }));
  }

  /** Accepted and refused requests per UTC day, last 30 days. */
  async usage(tenant: string, options: CallOptions = {}): Promise<UsageDay[]> {
    return (await this.get<{ days: UsageDay[] }>(`${t(tenant)}/usage`, options)).days;
  }

  private async get<T>(path: string, options: CallOptions): Promise<T> {
    return readJson(await this.#transport.send({ ...options, method: "GET", path, retryable: true }));
  }
}

/** Edits the config's classification, dropping fields left undefined and the whole field when empty. */
function editClassification(config: ModelConfig, edit: (k: Classification) => void): void {
  const k: Classification = { ...config.classification };
  edit(k);
  for (const key of Object.keys(k) as (keyof Classification)[]) if (k[key] === undefined) delete k[key];
  if (Object.keys(k).length) config.classification = k;
  else delete config.classification;
}

/** Sets a config field, or removes it for null. */
function setOrDelete<K extends keyof ModelConfig>(config: ModelConfig, field: K, value: ModelConfig[K] | null): void {
  if (value === null) delete config[field];
  else config[field] = value;
}

/** The stream, telling `onProgress` how many bytes have been read from it. */
function counted(stream: ReadableStream<Uint8Array>, total: number | undefined, onProgress: Progress | undefined): ReadableStream<Uint8Array> {
  if (!onProgress) return stream;
  let sent = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        sent += chunk.byteLength;
        onProgress(sent, total);
      },
    }),
  );
}

