/** @module serving/heap-exhausted: the error for a load or run that hit onnxruntime's heap cap. */
import { ServingError } from "../errors";
import { wasmHeapMaxBytes, type OrtHeapError } from "./loader";

/**
 * A 507 for a load or run that needed more of onnxruntime's heap than ORT_HEAP_MAX_BYTES allows:
 * the isolate's own limit, not the caller's mistake, and nothing else in the isolate failed.
 */
export function heapExhausted(what: string, cause: OrtHeapError, advice = ""): ServingError {
  const mib = Math.round(wasmHeapMaxBytes() / 1048576);
  return new ServingError(
    "resource_exhausted",
    `${what} needs more memory than onnxruntime's heap may take (ORT_HEAP_MAX_BYTES, ${mib} MiB): ${cause.message}. It was stopped alone; other models and requests are unaffected.${advice ? ` ${advice}` : ""}`,
    { cause },
  );
}
