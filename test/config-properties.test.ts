/**
 * Model configs an operator might PUT, right or wrong in any part (fast-check): each is accepted
 * (200) or refused with a 400 or 409 in the admin API's error shape, never a 500; and a model
 * under any config that was accepted still answers a request that names no version, and one that
 * names each version, with what onnxruntime-node gives for the version that says it answered.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, expectMatchesReference, json, post, reference, setup, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch } from "./support/inputs";

beforeAll(setup);

const FILES: Record<number, string> = { 1: "iris/1/model.onnx", 2: "candidates/iris-retrained.onnx" };
/** Mostly `valid`, sometimes `wrong`: so that both accepted and refused configs are tried often. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<U>) => fc.oneof({ weight: 9, arbitrary: valid as fc.Arbitrary<T | U> }, { weight: 1, arbitrary: wrong as fc.Arbitrary<T | U> });

/** Versions that exist (1, 2), now and then one that does not (3). */
const version = mostly(fc.constantFrom(1, 2), fc.constant(3));

const config = fc.record(
  {
    description: fc.string({ maxLength: 20 }),
    default_version: mostly(version, fc.constantFrom(0, -1, 1.5)),
    max_batch_size: mostly(fc.integer({ min: 1, max: 8 }), fc.constant(0)),
    labels: mostly(fc.dictionary(fc.constantFrom("stable", "canary"), version, { maxKeys: 2 }), fc.dictionary(fc.constantFrom("9bad", ""), fc.constantFrom(0, 1), { minKeys: 1, maxKeys: 1 })),
    traffic: mostly(
      fc.integer({ min: 0, max: 100 }).map((w) => ({ "1": w, "2": 100 - w })),
      fc.dictionary(fc.constantFrom("1", "3", "x"), fc.integer({ min: -1, max: 101 }), { maxKeys: 3 }),
    ),
    shadow: fc.record({ version: mostly(version, fc.constant(0)), percent: mostly(fc.integer({ min: 0, max: 100 }), fc.constant(101)) }),
    payload_logging: fc.record({ sample_rate: mostly(fc.constantFrom(0, 0.5, 1), fc.constant(2)) }),
    // Answers cached across config changes must still be the answering version's own.
    response_cache: fc.record({ ttl_seconds: mostly(fc.constantFrom(1, 600), fc.constant(0)), scope: mostly(fc.constantFrom("tenant", "model"), fc.constant("all")) }, { requiredKeys: ["ttl_seconds"] }),
    dynamic_batching: fc.record(
      {
        max_batch_size: mostly(fc.integer({ min: 1, max: 8 }), fc.constant(0)),
        max_queue_delay_ms: mostly(fc.constantFrom(0, 1, 2), fc.constant(5000)),
        batch_axes: mostly(fc.dictionary(fc.constantFrom("features", "probabilities"), fc.constant(0), { maxKeys: 2 }), fc.dictionary(fc.constantFrom("label", "nope"), fc.integer({ min: 0, max: 2 }), { minKeys: 1, maxKeys: 1 })),
        unbatched_inputs: mostly(fc.constant([]), fc.subarray(["features", "label", "nope"], { minLength: 1 })),
      },
      { requiredKeys: ["max_batch_size", "max_queue_delay_ms"] },
    ),
    onnxruntime: fc.record({
      graph_optimization_level: mostly(fc.constantFrom("disabled", "basic", "extended", "all"), fc.constant("fast")),
      enable_mem_pattern: fc.boolean(),
      enable_cpu_mem_arena: fc.boolean(),
      disable_prepacking: mostly(fc.boolean(), fc.constant("yes")),
    }, { requiredKeys: [] }),
    alerts: fc.record({
      webhook: mostly(fc.constant("http://webhook.test/ok/cfg"), fc.constantFrom("ftp://nowhere", "not a url")),
      rules: fc.array(
        fc.record({ name: mostly(fc.constantFrom("slow", "errors"), fc.constant("1bad")), metric: fc.constantFrom("p99_latency_ms", "error_rate"), above: mostly(fc.constant(0.5), fc.constant(-1)) }),
        { minLength: 1, maxLength: 2 },
      ),
    }),
  },
  { requiredKeys: [] },
);
/** Now and then with a field the schema does not know (which a PUT refuses). */
const configs = fc.tuple(config, fc.integer({ min: 0, max: 9 })).map(([c, n]) => (n === 0 ? { ...c, unknown_field: true } : c));

describe("model configs", () => {
  it("are accepted or refused with a 400 or 409, and an accepted one keeps every version serving correctly", async () => {
    await uploadFixture("iris-cfg", 1, FILES[1]!);
    await uploadFixture("iris-cfg", 2, FILES[2]!);
    const input = irisBatch(1); // within any max_batch_size
    const answers = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(configs, async (cfg) => {
        const res = await adminCall("PUT", "/models/iris-cfg/config", cfg);
        const body = (await res.json()) as { error?: string; code?: string };
        expect([200, 400, 409], JSON.stringify(body)).toContain(res.status);
        answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        if (res.status !== 200) {
          expect(typeof body.error).toBe("string");
          expect(typeof body.code).toBe("string");
          return;
        }
        for (const path of ["/v2/models/iris-cfg/infer", "/v2/models/iris-cfg/versions/1/infer", "/v2/models/iris-cfg/versions/2/infer"]) {
          const out = await json<{ model_version: string; outputs: JsonTensor[] }>(await post(path, { inputs: [input] }));
          expectMatchesReference(out.outputs, await reference(FILES[Number(out.model_version)]!, [input]));
        }
      }),
      // An empty config (accepted) and an unknown field (refused) are always among the runs.
      { numRuns: 60, examples: [[{}], [{ unknown_field: true }]] as [typeof configs extends fc.Arbitrary<infer T> ? T : never][] },
    );
    // Both kinds were tried.
    expect(answers.get(200) ?? 0).toBeGreaterThan(0);
    expect((answers.get(400) ?? 0) + (answers.get(409) ?? 0)).toBeGreaterThan(0);
  });
});
