/**
 * @edge-inference/client inside workerd: this test Worker calls the service through a service
 * binding (SELF), passing the binding as the client's fetch. The same built package as Node and
 * the browser run; the answers are onnxruntime-node's (the FIXTURES binding's reference runs).
 */
import { AdminClient, InferenceClient, InferInput, InferRequestedOutput, RateLimitError } from "@edge-inference/client";
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { asText, BINARY_VALUES, dtypeInput, JSON_VALUES, referenceData } from "./support/dtype-values";
import { ADMIN_TOKEN, fixtureBytes, reference, seedRepository, tenantKey } from "./support/helpers";
import { irisBatch } from "./support/inputs";

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

  it("publishes class labels and features with the admin client, then asks for top classes and :classify", async () => {
    const admin = new AdminClient({ url: "https://edge.test", token: ADMIN_TOKEN, fetch: SELF });
    await admin.publishVersion("client-species", 1, new Uint8Array(await fixtureBytes("iris/1/model.onnx")));
    const species = ["setosa", "versicolor", "virginica"];
    expect(await admin.publishLabels("client-species", "species.txt", species)).toMatchObject({ labels: 3 });
    await admin.setLabelFile("client-species", "probabilities", "species.txt");
    await admin.setFeatures("client-species", ["sepal_length", "sepal_width", "petal_length", "petal_width"]);
    expect((await admin.labels("client-species", "species.txt")).labels).toEqual(species);

    const batch = irisBatch(150);
    const [ref] = await reference("iris/1/model.onnx", [batch], ["probabilities"]);
    const input = new InferInput("features", batch.shape, "FP32").setData(batch.data as number[]);
    const result = await client.infer("client-species", [input], { outputs: [new InferRequestedOutput("probabilities", { classCount: 1 })] });
    expect(result.datatype("probabilities")).toBe("BYTES");
    const top = result.asArray("probabilities") as string[];
    top.forEach((entry, r) => {
      const row = ref!.data.slice(r * 3, r * 3 + 3) as number[];
      const best = row.indexOf(Math.max(...row));
      expect(entry.split(":").slice(1)).toEqual([String(best), species[best]]);
    });

    const rows = Array.from({ length: 150 }, (_, r) => batch.data.slice(r * 4, r * 4 + 4) as number[]);
    const classified = await client.classify("client-species", rows.map(([a, b, c, d]) => ({ sepal_length: a, sepal_width: b, petal_length: c, petal_width: d })));
    classified.results.forEach((pairs, r) => {
      expect(pairs.map(([label]) => label)).toEqual(species);
      pairs.forEach(([, score], i) => expect(Math.abs(score - (ref!.data[r * 3 + i] as number))).toBeLessThanOrEqual(1e-5 + 1e-4 * (ref!.data[r * 3 + i] as number)));
    });
  });
});
