/**
 * @module serving/session-options: a model's onnxruntime session options (its config's
 * `onnxruntime`), as the part of a session's identity they are (a session built with other
 * options is another session) and as the tuning the loader applies. Pure.
 */
import type { ModelConfig } from "./config";
import type { SessionTuning } from "./loader";

/** The options as a canonical string: "" for onnxruntime's defaults. */
export function sessionOptionsOf(config: ModelConfig | undefined): string {
  const options = config?.onnxruntime;
  if (!options) return "";
  const set = Object.entries(options).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return set.length === 0 ? "" : JSON.stringify(Object.fromEntries(set));
}

/** The loader's tuning for options given as sessionOptionsOf wrote them. */
export function tuningOf(options: string): SessionTuning {
  if (options === "") return {};
  const o = JSON.parse(options) as NonNullable<ModelConfig["onnxruntime"]>;
  return {
    ...(o.graph_optimization_level !== undefined ? { graphOptimizationLevel: o.graph_optimization_level } : {}),
    ...(o.enable_mem_pattern !== undefined ? { enableMemPattern: o.enable_mem_pattern } : {}),
    ...(o.enable_cpu_mem_arena !== undefined ? { enableCpuMemArena: o.enable_cpu_mem_arena } : {}),
    ...(o.disable_prepacking !== undefined ? { disablePrepacking: o.disable_prepacking } : {}),
  };
}
