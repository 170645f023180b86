/**
 * @edge-inference/client: a fetch-based client for edge-inference and any KServe V2 / Open
 * Inference Protocol server, after tritonclient's HTTP API, with TF Serving's predict and
 * edge-inference's admin API. No dependencies: Node ≥ 20, browsers, Workers, Deno, Bun.
 */
export { InferenceClient, type InferenceClientOptions, type InferOptions, type PredictOptions } from "./inference-client.js";
export { InferInput, type InputData, type InputJson } from "./infer-input.js";
export { InferRequestedOutput } from "./infer-output.js";
export { InferResult, type InferResponseJson, type OutputJson } from "./infer-result.js";
export { AdminClient, type AdminClientOptions, type ConfigEdit, type Progress, type PublishOptions } from "./admin-client.js";
export type * from "./admin-types.js";
export type * from "./protocol-types.js";
export { DATATYPES, type Datatype, type NumericArray, type TensorData } from "./datatypes.js";
export { fromHalfBits, toHalfBits } from "./float16.js";
export {
  AuthenticationError,
  ClientUsageError,
  ConflictError,
  InferenceServerError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RateLimitError,
  UnavailableError,
} from "./errors.js";
export type { CallOptions, ConnectionOptions, FetchLike, Fetcher, RetryEvent } from "./transport.js";
export type { RateLimit } from "./response-info.js";
export type { Coding, RequestCompression } from "./compression.js";
