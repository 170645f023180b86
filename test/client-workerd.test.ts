/**
 * @edge-inference/client inside workerd: this test Worker calls the service through a service
 * binding (SELF), passing the binding as the client's fetch. The same built package as Node and
 * the browser run; the answers are onnxruntime-node's (the FIXTURES binding's reference runs).
 */
import { AdminClient, InferenceClient, InferInput, RateLimitError } from "@edge-inference/client";
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { asText, BINARY_VALUES, dtypeInput, JSON_VALUES, referenceData } from "./support/dtype-values";
import { ADMIN_TOKEN, reference, seedRepository, tenantKey } from "./support/helpers";

let client: InferenceClient;

beforeAll(async () => {
  await seedRepository();
  client = new InferenceClient({ url: "https://edge.test", apiKey: await tenantKey("client-workerd", { requests_per_minute: 100_000 }), fetch: SELF });
});

describe("the client in workerd, through a service binding", () => {
  for (const binary of [true, false]) {
    const values = binary ? BINARY_VALUES : JSON_VALUES;
    it(`round-trips every datatype as ${binary ? "binary" : "JSON"}, as onnxruntime-node computes it`, async () => {
      const inputs = Object.entries(values).map(([datatype, data]) => new InferInput(dtypeInput(datatype), [data.length], datatype).setData(data as number[], { binary }));
      const result = await client.infer("dtypes", inputs, { binaryOutput: binary });
      const expected = await reference(
        "dtypes/1/model.onnx",
        Object.entries(values).map(([datatype, data]) => ({ name: dtypeInput(datatype), datatype, shape: [data.length], data: referenceData(data) })),
      );
      for (const e of expected) {
        expect(result.datatype(e.name), e.name).toBe(e.datatype);
        expect(asText(result.asArray(e.name)), e.name).toEqual(asText(e.data));
      }
    });
  }

  it("reads metadata and runs the admin client through the binding too", async () => {
    expect(await client.isServerReady()).toBe(true);
    expect((await client.modelMetadata("silero-vad")).inputs.map((i) => i.name)).toEqual(["input", "state", "sr"]);
    const admin = new AdminClient({ url: "https://edge.test", token: ADMIN_TOKEN, fetch: SELF });
    expect((await admin.models()).map((m) => m.name)).toContain("dtypes");
    await admin.putTenant("client-workerd-slow", { requests_per_minute: 60, burst: 1, admission: "exact" });
    const slow = new InferenceClient({ url: "https://edge.test", apiKey: (await admin.createKey("client-workerd-slow")).key, fetch: SELF });
    await slow.isModelReady("iris");
    await expect(slow.isModelReady("iris")).rejects.toBeInstanceOf(RateLimitError);
  });
});
