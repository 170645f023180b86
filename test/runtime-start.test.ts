/**
 * onnxruntime starts once per isolate (~0.3 s of CPU): from a one-node graph, begun by the first
 * keyed request for a model so that it runs while that request's I/O is in flight.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadSession, runtimeStartModel, runtimeStatus, startRuntime } from "../src/serving/loader";
import { adminCall, call, json, setup } from "./support/helpers";

beforeAll(setup);

const isolate = async () => json<{ onnxruntime: string; wasm_heap_bytes: number | null }>(await adminCall("GET", "/isolate"), 200);

describe("onnxruntime's start", () => {
  it("is begun by a keyed request for a model, not by other requests, and shows in /admin/isolate", async () => {
    // This file's isolate is fresh: nothing has loaded a model in it yet.
    expect((await isolate()).onnxruntime).toBe("not started");
    expect((await call("/v2")).status).toBe(200);
    expect((await callWithoutKey("/v2/models/iris")).status).toBe(401);
    expect((await isolate()).onnxruntime).toBe("not started");

    // A keyed request for a model begins the start even when it loads nothing (here: no such
    // model), after its response if need be.
    expect((await call("/v2/models/no-such-model")).status).toBe(404);
    let state = (await isolate()).onnxruntime;
    for (let i = 0; i < 100 && state !== "started"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await isolate()).onnxruntime;
    }
    expect(state).toBe("started");
    expect((await isolate()).wasm_heap_bytes).toBeGreaterThan(0);
    expect((await call("/v2/models/iris")).status).toBe(200);
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

function callWithoutKey(path: string) {
  return call(path, { headers: { authorization: "Bearer eik_not-a-real-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" } });
}
