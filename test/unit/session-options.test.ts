import { describe, expect, it } from "vitest";
import { ModelConfigSchema } from "../../src/serving/config";
import { sessionOptionsOf, tuningOf } from "../../src/serving/session-options";

const configOf = (onnxruntime: unknown) => ModelConfigSchema.parse({ onnxruntime });

describe("session options from a model's config", () => {
  it("are one canonical string whatever the order or unset fields, and '' for the defaults", () => {
    const a = sessionOptionsOf(configOf({ disable_prepacking: true, graph_optimization_level: "basic" }));
    const b = sessionOptionsOf(configOf({ graph_optimization_level: "basic", disable_prepacking: true }));
    expect(a).toBe(b);
    expect(sessionOptionsOf(undefined)).toBe("");
    expect(sessionOptionsOf(configOf(undefined))).toBe("");
    expect(sessionOptionsOf(configOf({}))).toBe("");
    // false is an option set, not the default left alone.
    expect(sessionOptionsOf(configOf({ enable_mem_pattern: false }))).not.toBe("");
  });

  it("become the loader's tuning, each option to its own", () => {
    expect(tuningOf("")).toEqual({});
    const all = { graph_optimization_level: "extended", enable_mem_pattern: false, enable_cpu_mem_arena: false, disable_prepacking: true };
    expect(tuningOf(sessionOptionsOf(configOf(all)))).toEqual({ graphOptimizationLevel: "extended", enableMemPattern: false, enableCpuMemArena: false, disablePrepacking: true });
    expect(tuningOf(sessionOptionsOf(configOf({ enable_cpu_mem_arena: true })))).toEqual({ enableCpuMemArena: true });
  });
});
