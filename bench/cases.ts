/** The benchmark's models and inputs: deterministic, in JSON (KServe) and raw binary form. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mulberry32 } from "../scripts/prng.ts";
import { ENCODER_FILE, ensureEncoder, SEQUENCE, WIDTH } from "./encoder-model.ts";
import { ensureMlp, MLP_FILE } from "./mlp-model.ts";
import { root, type Running } from "./workers.ts";

export interface Input {
  name: string;
  datatype: "FP32" | "INT64";
  shape: number[];
  data: number[];
}

export interface Case {
  model: string;
  file: string;
  what: string;
  inputs: Input[];
  /** Loop length for the per-inference measurement: long enough that K runs take ≫ HTTP noise. */
  loop: number;
  /** Where the batch is when not in the first dimension, and inputs a batch shares (the config's). */
  batching?: { batch_axes?: Record<string, number>; unbatched_inputs?: string[] };
}


const floats = (n: number, seed: number, scale = 1) => {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * scale));
};

export const CASES: Case[] = [
  {
    model: "iris", file: "models/iris/1/model.onnx", what: "softmax regression, 664 B", loop: 2000,
    inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }],
  },
  {
    model: "silero-vad", file: "node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx", what: "Silero VAD v5 (pretrained), 2.3 MB", loop: 200,
    inputs: [
      { name: "input", datatype: "FP32", shape: [1, 512], data: floats(512, 1, 0.3) },
      { name: "state", datatype: "FP32", shape: [2, 1, 128], data: new Array(256).fill(0) },
      { name: "sr", datatype: "INT64", shape: [], data: [16000] },
    ],
    batching: { batch_axes: { state: 1, stateN: 1 }, unbatched_inputs: ["sr"] },
  },
  {
    model: "cnn", file: "models/cnn/1/model.onnx", what: "small CNN, 1×3×224×224 input, 22 KB", loop: 40,
    inputs: [{ name: "image", datatype: "FP32", shape: [1, 3, 224, 224], data: floats(3 * 224 * 224, 2) }],
  },
  {
    model: "image-linear", file: "models/bench/image-linear.onnx", what: "linear probe, 1×3×224×224 input, 0.4 KB", loop: 500,
    inputs: [{ name: "image", datatype: "FP32", shape: [1, 3, 224, 224], data: floats(3 * 224 * 224, 3) }],
  },
  {
    model: "mlp", file: MLP_FILE, what: "MLP 256→2048→2048→16, 18.9 MB of weights", loop: 100,
    inputs: [{ name: "features", datatype: "FP32", shape: [1, 256], data: floats(256, 4) }],
  },
  {
    model: "encoder", file: ENCODER_FILE, what: "transformer encoder (BERT-tiny's: 2 layers, width 128) over 16 vectors, 1.6 MB", loop: 200,
    inputs: [{ name: "hidden", datatype: "FP32", shape: [1, SEQUENCE, WIDTH], data: floats(SEQUENCE * WIDTH, 5) }],
  },
];

/** Builds the models the benchmark makes rather than keeps (the MLP, the encoder). */
export function prepareCases(): void {
  ensureMlp();
  ensureEncoder();
}

export const modelBytes = (c: Case) => readFileSync(join(root, c.file));

/** Little-endian bytes of one input. */
export function rawInput(i: Input): Buffer {
  if (i.datatype === "INT64") {
    const b = Buffer.alloc(8 * i.data.length);
    i.data.forEach((v, k) => b.writeBigInt64LE(BigInt(v), k * 8));
    return b;
  }
  return Buffer.from(Float32Array.from(i.data).buffer);
}

/** The inputs' bytes, concatenated in input order. */
export const rawInputs = (c: Case) => Buffer.concat(c.inputs.map(rawInput));

/**
 * A batch of `rows` copies of the case's request: each input repeated along its batch axis (the
 * first unless the case names another), shared inputs once. The inputs' shapes, and their bytes
 * concatenated in input order.
 */
export function batchOf(c: Case, rows: number): { shapes: number[][]; bytes: Buffer } {
  const parts = c.inputs.map((i) => {
    if (c.batching?.unbatched_inputs?.includes(i.name)) return { shape: i.shape, bytes: rawInput(i) };
    const axis = c.batching?.batch_axes?.[i.name] ?? 0;
    if (i.shape[axis] !== 1 || i.datatype !== "FP32") throw new Error(`${c.model}: input '${i.name}' is not an FP32 batch of 1 at dimension ${axis}`);
    // Row-major: the dimensions before the axis make `outer` blocks; each gets `rows` copies of its slab.
    const outer = i.shape.slice(0, axis).reduce((n, d) => n * d, 1);
    const slab = i.data.length / outer;
    const data = new Float32Array(i.data.length * rows);
    for (let o = 0; o < outer; o++) for (let r = 0; r < rows; r++) data.set(i.data.slice(o * slab, (o + 1) * slab), (o * rows + r) * slab);
    return { shape: i.shape.map((d, k) => (k === axis ? rows : d)), bytes: Buffer.from(data.buffer) };
  });
  return { shapes: parts.map((p) => p.shape), bytes: Buffer.concat(parts.map((p) => p.bytes)) };
}

/** The bare Worker's X-Shapes header for a case's inputs: their shapes, in input order. */
export const shapesHeader = (c: Case) => JSON.stringify(c.inputs.map((i) => i.shape));

/** A KServe JSON inference request. */
export const jsonBody = (c: Case) => Buffer.from(JSON.stringify({ inputs: c.inputs }));

/**
 * Flat row-major values as lists nested to `shape` (src/tensor/tensor.ts's `nest`, which this file,
 * run by Node as it is, cannot import: src's imports have no extensions).
 */
function nest(flat: number[], shape: number[]): unknown {
  if (shape.length <= 1) return shape.length === 0 ? flat[0] : flat;
  const inner = flat.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * inner, (i + 1) * inner), shape.slice(1)));
}

/** The same request with each input's data nested to its shape, as many clients send it. */
export const nestedJsonBody = (c: Case) => Buffer.from(JSON.stringify({ inputs: c.inputs.map((i) => ({ ...i, data: nest(i.data, i.shape) })) }));

/** A TF Serving columnar predict request: each input's data nested to its shape. */
export const tfBody = (c: Case) => Buffer.from(JSON.stringify({ inputs: Object.fromEntries(c.inputs.map((i) => [i.name, nest(i.data, i.shape)])) }));

/** A KServe binary inference request (binary inputs, binary outputs) and its header length. */
export function binaryBody(c: Case): { body: Buffer; headerLength: number } {
  const header = Buffer.from(
    JSON.stringify({
      parameters: { binary_data_output: true },
      inputs: c.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, parameters: { binary_data_size: rawInput(i).length } })),
    }),
  );
  return { body: Buffer.concat([header, rawInputs(c)]), headerLength: header.length };
}

/** Loads a case's model into the bare Worker (with onnxruntime `tuning`); ORT's heap bytes after. */
export async function bareLoad(bare: Running, c: Case, tuning: object = {}): Promise<{ wasm_heap_bytes: number }> {
  const res = await fetch(`${bare.url}/load/${c.model}?tuning=${encodeURIComponent(JSON.stringify(tuning))}`, { method: "PUT", body: modelBytes(c) });
  if (!res.ok) throw new Error(`bare load ${c.model}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { wasm_heap_bytes: number };
}
