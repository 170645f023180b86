/**
 * onnxruntime starts once per isolate, as the isolate starts (serving/startup): no request begins
 * it, and /admin/isolate shows it started and its heap.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadSession, runtimeStartModel, runtimeStatus, startRuntime } from "../src/serving/loader";
import { adminCall, call, json, setup } from "./support/helpers";

beforeAll(setup);

interface IsolateState {
  onnxruntime: string;
  wasm_heap_bytes: number | null;
  sessions: unknown[];
}
const isolate = async () => json<IsolateState>(await adminCall("GET", "/isolate"), 200);

describe("onnxruntime's start", () => {
  it("is begun by the isolate's start, with no model request, and shows in /admin/isolate", async () => {
    // This file's isolate is fresh: no request for a model has reached it, and none loaded one.
    let state = await isolate();
    expect(state.sessions).toEqual([]);
    for (let i = 0; i < 100 && state.onnxruntime !== "started"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = await isolate();
    }
    expect(state.onnxruntime).toBe("started");
    expect(state.wasm_heap_bytes).toBeGreaterThan(0);
    expect(state.sessions).toEqual([]);
    // Started once: a model's first load waits for no second start, and its record says so.
    expect((await call("/v2/models/iris")).status).toBe(200);
    const after = await isolate();
    expect(after.onnxruntime).toBe("started");
    const described = await json<{ versions: { load?: { runtime_wait_ms: number } }[] }>(await adminCall("GET", "/models/iris"));
    expect(described.versions[0]!.load!.runtime_wait_ms).toBe(0);
  });

  it("is the one-node Identity graph it says, and a model loads after it", async () => {
    await startRuntime();
    expect(runtimeStatus()).toBe("started");
    const session = await loadSession(runtimeStartModel());
    expect(session.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [1] }]);
    expect(session.outputs).toEqual([{ name: "y", datatype: "FP32", shape: [1] }]);
    const x = Float32Array.of(Math.PI);
    const [y] = await session.run([{ name: "x", datatype: "FP32", shape: [1], data: x }], ["y"]);
    expect(Array.from(y!.data as Float32Array)).toEqual(Array.from(x));
    await session.release();
  });
});
