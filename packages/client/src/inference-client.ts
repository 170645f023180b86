/**
 * @module inference-client: the KServe V2 / Open Inference Protocol client, after tritonclient's
 * HTTP InferenceServerClient (health, metadata, statistics, repository index, infer), plus TF
 * Serving's predict.
 */
import { frameRequest, HEADER_LENGTH } from "./binary-framing.js";
import { compress, type RequestCompression } from "./compression.js";
import type { InferInput } from "./infer-input.js";
import type { InferRequestedOutput } from "./infer-output.js";
import { InferResult } from "./infer-result.js";
import { readJson, seg, Transport, type CallOptions, type ConnectionOptions } from "./transport.js";
import type { ModelMetadata, ModelStatistics, ClassifyResponse, PredictResponse, RepositoryIndexEntry, ServerMetadata } from "./protocol-types.js";

export interface InferenceClientOptions extends ConnectionOptions {
  /** The tenant's API key (`eik_...`). */
  apiKey?: string;
  /** Compress request bodies at least `minBytes` long (off by default). */
  requestCompression?: RequestCompression | boolean;
}

export interface InferOptions extends CallOptions {
  /** Outputs to compute and return (default: all, as binary). */
  outputs?: readonly InferRequestedOutput[];
  /** With no `outputs`: whether they come back as binary (default true) or as JSON. */
  binaryOutput?: boolean;
  version?: string | number;
  /** A label naming the version (X-Model-Label). */
  label?: string;
  /** The end client, so a traffic split keeps sending it to the same version (X-Client-Id). */
  clientId?: string;
  /** The request's id: the JSON `id` echoed back, and X-Request-Id. */
  requestId?: string;
  /** Request parameters. */
  parameters?: Record<string, unknown>;
}

export interface PredictOptions extends CallOptions {
  version?: string | number;
  label?: string;
}

const modelPath = (model: string, version?: string | number) => `/v2/models/${seg(model)}${version === undefined || version === "" ? "" : `/versions/${seg(version)}`}`;

export class InferenceClient {
  /** #private: it holds the key. */
  readonly #transport: Transport;
  private readonly compression: Required<RequestCompression> | undefined;

  constructor(options: InferenceClientOptions) {
    this.#transport = new Transport(options, options.apiKey);
    const c = options.requestCompression;
    this.compression = c ? { algorithm: (c === true ? undefined : c.algorithm) ?? "gzip", minBytes: (c === true ? undefined : c.minBytes) ?? 64 * 1024 } : undefined;
  }

  /** Whether the server is live (GET /v2/health/live answers 200). */
  async isServerLive(options: CallOptions = {}): Promise<boolean> {
    return (await this.get("/v2/health/live", options, [503])).ok;
  }

  async isServerReady(options: CallOptions = {}): Promise<boolean> {
    return (await this.get("/v2/health/ready", options, [503])).ok;
  }

  /** Whether the model (version) is loaded and ready; loading it if needed. False for a missing or unloadable one. */
  async isModelReady(model: string, version?: string | number, options: CallOptions = {}): Promise<boolean> {
    return (await this.get(`${modelPath(model, version)}/ready`, options, [404, 503])).ok;
  }

  async serverMetadata(options: CallOptions = {}): Promise<ServerMetadata> {
    return readJson(await this.get("/v2", options));
  }

  async modelMetadata(model: string, version?: string | number, options: CallOptions = {}): Promise<ModelMetadata> {
    return readJson(await this.get(modelPath(model, version), options));
  }

  /** Triton's statistics extension for the model. */
  async modelStatistics(model: string, version?: string | number, options: CallOptions = {}): Promise<ModelStatistics> {
    return readJson(await this.get(`${modelPath(model, version)}/stats`, options));
  }

  /** Triton's model repository extension: every model and version, or only the ready ones. */
  async repositoryIndex(options: CallOptions & { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    const body = JSON.stringify(options.ready === undefined ? {} : { ready: options.ready });
    const response = await this.#transport.send({ ...options, method: "POST", path: "/v2/repository/index", body, headers: { "content-type": "application/json", ...options.headers }, retryable: true });
    return readJson(response);
  }

  /** Runs the model: inputs with binary data go after a JSON header, the others in it. */
  async infer(model: string, inputs: readonly InferInput[], options: InferOptions = {}): Promise<InferResult> {
    const parameters: Record<string, unknown> = { ...options.parameters };
    if (!options.outputs?.length) parameters.binary_data_output = options.binaryOutput ?? true;
    const request = {
      ...(options.requestId === undefined ? {} : { id: options.requestId }),
      inputs: inputs.map((i) => i.toJSON()),
      ...(options.outputs?.length ? { outputs: options.outputs.map((o) => o.toJSON()) } : {}),
      parameters,
    };
    const headers: Record<string, string> = {};
    if (options.label !== undefined) headers["x-model-label"] = options.label;
    if (options.clientId !== undefined) headers["x-client-id"] = options.clientId;
    if (options.requestId !== undefined) headers["x-request-id"] = options.requestId;
    const binaries = inputs.filter((i) => i.isBinary).map((i) => i.binaryData());
    let body: Uint8Array;
    if (binaries.length > 0) {
      const framed = frameRequest(request, binaries);
      body = framed.body;
      headers["content-type"] = "application/octet-stream";
      headers[HEADER_LENGTH] = String(framed.headerLength);
    } else {
      body = new TextEncoder().encode(JSON.stringify(request));
      headers["content-type"] = "application/json";
    }
    if (this.compression && body.byteLength >= this.compression.minBytes) {
      body = await compress(body, this.compression.algorithm);
      headers["content-encoding"] = this.compression.algorithm;
    }
    const response = await this.#transport.send({
      ...options,
      method: "POST",
      path: `${modelPath(model, options.version)}/infer`,
      body: body as Uint8Array<ArrayBuffer>,
      headers: { ...headers, ...options.headers },
      // An inference changes nothing on the server: sending it again is harmless.
      retryable: true,
    });
    return InferResult.from(response);
  }

  /**
   * TF Serving's predict: an array is the row format (`instances` → `predictions`), an object the
   * columnar one (`inputs` → `outputs`).
   */
  predict(model: string, instancesOrInputs: readonly unknown[] | Record<string, unknown>, options: PredictOptions = {}): Promise<PredictResponse> {
    return this.tfServing(model, "predict", Array.isArray(instancesOrInputs) ? { instances: instancesOrInputs } : { inputs: instancesOrInputs }, options);
  }

  /**
   * TF Serving's classify, for a model whose config names its input's features: each example's
   * classes as [label, score] pairs. `context` holds features every example shares.
   */
  classify(model: string, examples: readonly Record<string, unknown>[], options: PredictOptions & { context?: Record<string, unknown> } = {}): Promise<ClassifyResponse> {
    const { context, ...rest } = options;
    return this.tfServing(model, "classify", { examples, ...(context ? { context } : {}) }, rest);
  }

  /** POSTs a TF Serving REST method on the model (or its version or label). */
  private async tfServing<T>(model: string, method: "predict" | "classify", body: object, options: PredictOptions): Promise<T> {
    const selector = options.version !== undefined ? `/versions/${seg(options.version)}` : options.label !== undefined ? `/labels/${seg(options.label)}` : "";
    const response = await this.#transport.send({
      ...options,
      method: "POST",
      path: `/v1/models/${seg(model)}${selector}:${method}`,
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...options.headers },
      // A prediction changes nothing on the server: sending it again is harmless.
      retryable: true,
    });
    return readJson(response);
  }

  private get(path: string, options: CallOptions, accept?: readonly number[]): Promise<Response> {
    return this.#transport.send({ ...options, method: "GET", path, retryable: true, ...(accept ? { accept } : {}) });
  }
}
