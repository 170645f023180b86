/** @module admin-types: the JSON the admin API takes and answers with (docs/tenants.md and docs/models.md, Admin API). */

/** A model's config.json (docs/storage-schema.md); fields this client does not name pass through. */
export interface ModelConfig {
  description?: string;
  max_batch_size?: number;
  default_version?: number;
  labels?: Record<string, number>;
  /** Version → weight, summing to 100. */
  traffic?: Record<string, number>;
  shadow?: { version: number; percent: number };
  dynamic_batching?: DynamicBatching;
  onnxruntime?: Record<string, string | boolean>;
  alerts?: Record<string, unknown>;
  payload_logging?: Record<string, unknown>;
  classification?: Classification;
  /** Keeps answers for `ttl_seconds` (docs/response-cache.md). */
  response_cache?: { ttl_seconds: number; scope?: "tenant" | "model" };
  [field: string]: unknown;
}

/** A model's labels files and `:classify` features (docs/classification.md). */
export interface Classification {
  /** Output name → labels file published beside the model (`publishLabels`). */
  label_files?: Record<string, string>;
  /** The names of the one input's last dimension, in order, for TF Serving's `:classify`. */
  features?: string[];
  /** The output `:classify` answers with, when the service cannot tell. */
  scores?: string;
}

/** A labels file as published. */
export interface PublishedLabels {
  model: string;
  file: string;
  /** How many labels (lines) it has. */
  labels: number;
  sha256: string;
  etag: string;
  /** False when the identical bytes were already there. */
  created: boolean;
}

export interface DynamicBatching {
  max_batch_size: number;
  max_queue_delay_ms: number;
  batch_axes?: Record<string, number>;
  unbatched_inputs?: string[];
}

export type Routing =
  | { kind: "traffic_split"; traffic: Record<string, number> }
  | { kind: "default_version"; version: number }
  | { kind: "latest"; version: number };

export interface ModelSummary {
  name: string;
  versions: number[];
  latest: number;
  labels: Record<string, number>;
  routing: Routing;
  shadow: { version: number; percent: number } | null;
  config_error?: string;
}

export interface VersionView {
  version: number;
  size: number;
  sha256: string | null;
  etag: string;
  uploaded: string;
  signature: unknown;
  labels: string[];
  traffic_weight: number | null;
  default: boolean;
  shadow: boolean;
  isolate_state: string;
  load_error?: string;
  [field: string]: unknown;
}

export interface ModelDetail {
  name: string;
  config: ModelConfig;
  config_etag: string | null;
  config_error?: string;
  routing: Routing;
  versions: VersionView[];
  shadow_stats: unknown;
}

export interface Published {
  model: string;
  version: number;
  sha256: string;
  size: number;
  etag: string;
  uploaded: string;
  signature: unknown;
  /** False when the identical bytes were already there. */
  created: boolean;
}

export interface Deleted {
  model: string;
  version: number;
  deleted: true;
  sha256: string | null;
  size: number;
}

export interface StoredConfig {
  model: string;
  config: ModelConfig;
  etag: string | null;
  config_error?: string;
}

export interface TenantPolicy {
  requests_per_minute: number;
  burst?: number;
  daily_quota?: number | null;
  models?: "*" | string[];
  admission?: "leased" | "exact";
}

export interface Tenant {
  tenant: string;
  policy: Required<TenantPolicy>;
  created_at: string;
  updated_at: string;
}

export interface KeyView {
  id: string;
  prefix: string;
  name: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  status: "active" | "expired" | "revoked";
}

/** A new key: `key` is shown this once. */
export interface CreatedKey extends KeyView {
  tenant: string;
  key: string;
}

export interface UsageDay {
  date: string;
  accepted: number;
  rejected_rate_limit: number;
  rejected_quota: number;
  rejected_forbidden: number;
}
