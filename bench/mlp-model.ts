/**
 * The benchmark's MLP: features [batch, 256] → 2048 → ReLU → 2048 → ReLU → 16 → Softmax, seeded
 * random weights, 18.9 MB (under the 20 MiB publish limit). Where its weights do not fit the CPU's
 * last-level cache, one row at a time streams them all from memory while a batch reuses each weight
 * for every row: the kind of small model where dynamic batching pays on a CPU (4× at 32 rows, in
 * inference alone, on the machines of the first thirteen full runs). Where a cache nearly holds
 * them (the 32 MiB L3, shared with other machines' work, of the fourteenth run's), a row's run is
 * 7–8× faster and the gain depends on how much of them stays cached: 1.44–1.77× at 32 rows, and
 * 1.52–2.48× end to end at 32 clients, in the same day's sittings. (`npm run bench:kernel`, which
 * builds it at other widths, found the cache only part of it: there onnxruntime-web's kernel runs a
 * batch at about twice a lone row's rate at any width.) Built here (deterministically) rather than
 * committed.
 */
import { join } from "node:path";
import { encodeModel, floatTensor, intAttribute, T, valueInfo, writeModelOnce, type Graph } from "../scripts/onnx-build.ts";
import { mulberry32 } from "../scripts/prng.ts";
import { root } from "./workers.ts";

export const MLP_FILE = "bench/.models/mlp.onnx";
/** The benchmark's MLP's hidden width; `npm run bench:kernel` builds others. */
export const MLP_WIDTH = 2048;
export const MLP_FEATURES = 256;

/** Where the MLP of hidden width `width` is written: MLP_FILE for the benchmark's own. */
export const mlpFile = (width: number) => (width === MLP_WIDTH ? MLP_FILE : `bench/.models/mlp-${width}.onnx`);

/** The MLP's layer widths, input to output, at hidden width `width`. */
export const mlpLayers = (width: number) => [MLP_FEATURES, width, width, 16];

function mlpGraph(width: number): Graph {
  const LAYERS = mlpLayers(width);
  const rand = mulberry32(256);
  const initializer = [];
  const node = [];
  let x = "features";
  for (let i = 0; i < LAYERS.length - 1; i++) {
    const [fanIn, fanOut] = [LAYERS[i]!, LAYERS[i + 1]!];
    const bound = Math.sqrt(6 / fanIn);
    const w = new Float32Array(fanIn * fanOut);
    for (let k = 0; k < w.length; k++) w[k] = (rand() * 2 - 1) * bound;
    initializer.push(floatTensor(`w${i}`, [fanIn, fanOut], w), floatTensor(`b${i}`, [fanOut], new Float32Array(fanOut)));
    node.push({ opType: "Gemm", input: [x, `w${i}`, `b${i}`], output: [`dense${i}`], name: `dense${i}` });
    x = `dense${i}`;
    if (i < LAYERS.length - 2) {
      node.push({ opType: "Relu", input: [x], output: [`relu${i}`], name: `relu${i}` });
      x = `relu${i}`;
    }
  }
  node.push({ opType: "Softmax", input: [x], output: ["probabilities"], name: "softmax", attribute: [intAttribute("axis", 1)] });
  return {
    name: `mlp_${LAYERS.join("_")}`,
    input: [valueInfo("features", T.FLOAT, ["batch", LAYERS[0]!])],
    output: [valueInfo("probabilities", T.FLOAT, ["batch", LAYERS.at(-1)!])],
    initializer,
    node,
  };
}

/** Writes the MLP of hidden width `width` to mlpFile(width) unless it is there already; its path. */
export function ensureMlp(width = MLP_WIDTH): string {
  const file = mlpFile(width);
  writeModelOnce(join(root, file), () => encodeModel(mlpGraph(width), `MLP ${MLP_FEATURES}-${width}-${width}-16 with seeded random weights (for benchmarks).`, "edge-inference/bench/mlp-model.ts"));
  return file;
}
