/** @module protocol-types: the JSON the protocol routes answer with. */

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  /** -1 for a dynamic dimension. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** Triton's statistics extension's answer (`model_stats`, one entry per version). */
export interface ModelStatistics {
  model_stats: Record<string, unknown>[];
}

/** One entry of Triton's repository index. */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}

/** TF Serving's predict answer: `predictions` (row format) or `outputs` (columnar). */
export interface PredictResponse {
  predictions?: unknown[];
  outputs?: unknown;
}

/** TF Serving's classify answer: per example, every class's [label, score] ("" where there is no label). */
export interface ClassifyResponse {
  results: [string, number][][];
}
