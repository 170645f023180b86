/**
 * The isolate core (src/isolate-core.ts): two cores built side by side in one process share
 * nothing, so a test needs a fresh core, not a fresh isolate, to start from empty state.
 */
import { describe, expect, it, vi } from "vitest";
import { verifyKey } from "../../src/auth/api-keys";
import { IsolateCore } from "../../src/isolate-core";
import { parseSettings } from "../../src/settings";

// Node cannot import onnxruntime's .wasm module as workerd does; nothing here starts onnxruntime.
vi.mock("../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", () => ({ default: {} }));

const KEY = `eik_${"a".repeat(43)}`;

/** A KV namespace holding one key record, counting its reads. */
function countingKv() {
  const kv = { reads: 0, get: async () => (kv.reads++, { tenant: "t", key_id: "key_1", expires_at: null }) };
  return kv;
}

describe("IsolateCore", () => {
  it("is configured from its own settings", () => {
    const small = new IsolateCore(parseSettings({ MODEL_CACHE_MAX_BYTES: "1000", RESPONSE_CACHE_MAX_BYTES: "2000", MODEL_REFRESH_SECONDS: "3" }));
    const plain = new IsolateCore(parseSettings({}));
    expect(small.serving.settings).toMatchObject({ maxSessionBytes: 1000, responseCacheBytes: 2000, refreshMs: 3000 });
    expect(small.serving.responses.status().max_bytes).toBe(2000);
    expect(plain.serving.responses.status().max_bytes).toBe(parseSettings({}).RESPONSE_CACHE_MAX_BYTES);
  });

  it("keeps its listings, cached answers, body memory, statistics, key lookups and leases to itself", async () => {
    const a = new IsolateCore(parseSettings({}));
    const b = new IsolateCore(parseSettings({}));

    const listed = vi.fn(async () => null);
    await a.serving.snapshots.get("iris", 60_000, listed);
    await a.serving.snapshots.get("iris", 60_000, listed);
    await b.serving.snapshots.get("iris", 60_000, listed);
    expect(listed).toHaveBeenCalledTimes(2);

    a.serving.responses.set("answer", [], 100, Date.now() + 60_000);
    expect(a.serving.responses.status().entries).toBe(1);
    expect(b.serving.responses.status().entries).toBe(0);

    const held = a.bodies.open(1024 * 1024);
    expect(await held.grow(1000, 0)).toBe(true);
    expect(a.bodies.status().reserved_bytes).toBe(1000);
    expect(b.bodies.status().reserved_bytes).toBe(0);
    held.release();

    a.stats.buffer.request("iris", 1, "t", "success", 5, 1);
    expect(a.stats.buffer.empty).toBe(false);
    expect(b.stats.buffer.empty).toBe(true);

    const kv = countingKv();
    for (const core of [a, a, b]) {
      expect(await verifyKey(core.keys, kv as unknown as KVNamespace, KEY, 60_000)).toMatchObject({ status: "valid", tenant: "t" });
    }
    expect(kv.reads).toBe(2);

    a.admission.leases.owe("t\u0000key_1\u0000iris", 3);
    expect(a.admission.leases.end("t\u0000key_1\u0000iris", Date.now()).unused).toBe(3);
    expect(b.admission.leases.end("t\u0000key_1\u0000iris", Date.now()).unused).toBe(0);

    expect(a.serving.heap.growths()).toEqual([]);
    expect(a.serving.manager).not.toBe(b.serving.manager);
  });
});
