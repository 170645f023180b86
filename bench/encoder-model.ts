/**
 * The benchmark's transformer encoder: BERT-tiny's encoder dimensions (2 layers, width 128, 2
 * attention heads, feed-forward 512) over a sequence of 16 vectors in (`hidden` FP32 [batch, 16,
 * 128], the token embeddings: no vocabulary), mean-pooled to 8 classes. Seeded random weights,
 * 1.6 MB. A small model of the kind served today, built of many small operations (about 60 nodes
 * a run), whose cost a batch shares: a different case for dynamic batching from the MLP's, whose
 * gain depends on its weights not fitting the CPU's cache. Built here (deterministically) rather
 * than committed.
 */
import { join } from "node:path";
import { encodeModel, floatAttribute, floatTensor, int64Tensor, intAttribute, intsAttribute, T, valueInfo, writeModelOnce, type Graph } from "../scripts/onnx-build.ts";
import { mulberry32 } from "../scripts/prng.ts";
import { root } from "./workers.ts";

export const ENCODER_FILE = "bench/.models/encoder.onnx";
export const SEQUENCE = 16;
export const WIDTH = 128;
const LAYERS = 2;
const HEADS = 2;
const FFN = 512;
const CLASSES = 8;

function encoderGraph(): Graph {
  const rand = mulberry32(128);
  const initializer: ReturnType<typeof floatTensor>[] = [];
  const node: object[] = [];
  const headWidth = WIDTH / HEADS;
  const weight = (name: string, fanIn: number, fanOut: number) => {
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    const w = new Float32Array(fanIn * fanOut);
    for (let k = 0; k < w.length; k++) w[k] = (rand() * 2 - 1) * bound;
    initializer.push(floatTensor(name, [fanIn, fanOut], w));
    return name;
  };
  const constant = (name: string, dims: number[], value: number) => {
    initializer.push(floatTensor(name, dims, new Float32Array(dims.reduce((n, d) => n * d, 1)).fill(value)));
    return name;
  };
  initializer.push(int64Tensor("heads_shape", [4], [0, SEQUENCE, HEADS, headWidth]), int64Tensor("merged_shape", [3], [0, SEQUENCE, WIDTH]));
  constant("scale", [], 1 / Math.sqrt(headWidth));
  let n = 0;
  const op = (opType: string, input: string[], attribute: object[] = []) => {
    const output = `${opType.toLowerCase()}${n++}`;
    node.push({ opType, input, output: [output], name: output, attribute });
    return output;
  };
  const dense = (x: string, name: string, fanIn: number, fanOut: number) => op("Add", [op("MatMul", [x, weight(`${name}_w`, fanIn, fanOut)]), constant(`${name}_b`, [fanOut], 0)]);
  const norm = (x: string, name: string) => op("LayerNormalization", [x, constant(`${name}_g`, [WIDTH], 1), constant(`${name}_b`, [WIDTH], 0)], [intAttribute("axis", -1), floatAttribute("epsilon", 1e-12)]);
  /** [batch, S, W] → [batch, heads, S, W/heads], or with `keysLast` [batch, heads, W/heads, S]. */
  const split = (x: string, keysLast = false) => op("Transpose", [op("Reshape", [x, "heads_shape"])], [intsAttribute("perm", keysLast ? [0, 2, 3, 1] : [0, 2, 1, 3])]);

  let x = "hidden";
  for (let l = 0; l < LAYERS; l++) {
    // Post-norm, as BERT: attention, add, norm; feed-forward, add, norm.
    const q = split(dense(x, `l${l}_q`, WIDTH, WIDTH));
    const k = split(dense(x, `l${l}_k`, WIDTH, WIDTH), true);
    const v = split(dense(x, `l${l}_v`, WIDTH, WIDTH));
    const attention = op("Softmax", [op("Mul", [op("MatMul", [q, k]), "scale"])], [intAttribute("axis", -1)]);
    const merged = op("Reshape", [op("Transpose", [op("MatMul", [attention, v])], [intsAttribute("perm", [0, 2, 1, 3])]), "merged_shape"]);
    x = norm(op("Add", [x, dense(merged, `l${l}_o`, WIDTH, WIDTH)]), `l${l}_ln1`);
    const ffn = dense(op("Relu", [dense(x, `l${l}_ff1`, WIDTH, FFN)]), `l${l}_ff2`, FFN, WIDTH);
    x = norm(op("Add", [x, ffn]), `l${l}_ln2`);
  }
  const pooled = op("ReduceMean", [x], [intsAttribute("axes", [1]), intAttribute("keepdims", 0)]);
  const logits = dense(pooled, "classifier", WIDTH, CLASSES);
  node.push({ opType: "Softmax", input: [logits], output: ["probabilities"], name: "softmax", attribute: [intAttribute("axis", -1)] });
  return {
    name: "encoder_2x128_seq16",
    input: [valueInfo("hidden", T.FLOAT, ["batch", SEQUENCE, WIDTH])],
    output: [valueInfo("probabilities", T.FLOAT, ["batch", CLASSES])],
    initializer,
    node,
  } as Graph;
}

/** Writes the encoder to ENCODER_FILE unless it is there already. */
export function ensureEncoder(): void {
  writeModelOnce(join(root, ENCODER_FILE), () => encodeModel(encoderGraph(), "Transformer encoder, BERT-tiny's encoder dimensions over 16 vectors, seeded random weights (for benchmarks).", "edge-inference/bench/encoder-model.ts"));
}
