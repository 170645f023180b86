/**
 * `npm run bench:kernel`: what onnxruntime-web's matrix kernel makes of rows run together, by model
 * size, against native onnxruntime on the same CPU. MLPs like the benchmark's (256→H→H→16, seeded
 * weights) of several hidden widths H, each run in the bare Worker (workerd, onnxruntime-web's
 * WebAssembly, one thread) and in onnxruntime-node (one thread) on one row and on 32 rows: time
 * a row, the gain a row at 32 rows (the bound on what dynamic batching can give end to end), and
 * the arithmetic rate each reaches (GFLOP/s, two per multiply-add). A batch's rate is what the
 * kernel can compute; one row's is less where the weights have to come from memory, and the gain
 * is their ratio. The widths past 2048 are larger than the 128 MB isolate admits: they are here to
 * show where the gain goes once the weights no longer fit any cache.
 *
 * Environment: KERNEL_WIDTHS (hidden widths, comma-separated; default 1024,2048,3072,4096).
 * Written to bench/results/kernel-<time>.json (not committed); the newest sitting
 * docs/performance.md quotes is kept in bench/runs/kernel/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CASES, bareLoad, type Case } from "../cases.ts";
import { nativePerRun, perInference } from "../inference-time.ts";
import { ensureMlp, MLP_FEATURES, MLP_WIDTH, mlpLayers } from "../mlp-model.ts";
import { provenance } from "../provenance.ts";
import { placement, root, startBare } from "../workers.ts";

const PORT = 8831;
const WIDTHS = (process.env.KERNEL_WIDTHS ?? "1024,2048,3072,4096").split(",").map(Number);
for (const w of WIDTHS) if (!Number.isInteger(w) || w < 16) throw new Error(`KERNEL_WIDTHS: whole numbers of at least 16, not ${w}`);
const ROWS = 32;
const round = (x: number, d = 2) => Number(x.toFixed(d));
const mlp = CASES.find((c) => c.model === "mlp")!;

/** Each layer's (inputs, outputs) in the MLP of hidden width `h`. */
function layerPairs(h: number): (readonly [number, number])[] {
  const widths = mlpLayers(h);
  return widths.slice(1).map((out, i) => [widths[i]!, out] as const);
}
/** Multiply-adds of one row through it, and its parameters (weights and biases). */
const macs = (h: number) => layerPairs(h).reduce((n, [fanIn, out]) => n + fanIn * out, 0);
const parameters = (h: number) => layerPairs(h).reduce((n, [fanIn, out]) => n + fanIn * out + out, 0);

console.log(placement ? `kernel: workerd on core ${placement.workerd}, this process (native onnxruntime) on ${placement.rest}` : "kernel: processes placed by the scheduler");
const bare = await startBare(PORT);
const rows = [];
try {
  for (const width of WIDTHS) {
    // One name for every width: each load releases the one before (the heap itself never shrinks).
    const c: Case = {
      model: "kernel-mlp", file: ensureMlp(width), what: `MLP ${MLP_FEATURES}→${width}→${width}→16`, inputs: mlp.inputs,
      // Long enough that a timed request's runs take tens of milliseconds whatever the width.
      loop: Math.max(20, Math.round(100 * (MLP_WIDTH / width) ** 2)),
    };
    const { wasm_heap_bytes } = await bareLoad(bare, c);
    const [one, many] = [await perInference(bare, c, 1), (await perInference(bare, c, ROWS)) / ROWS];
    const [nativeOne, nativeMany] = await nativePerRun(c, [1, ROWS]);
    const gflops = (ms: number) => round((2 * macs(width)) / (ms * 1e6), 1);
    rows.push({
      width, "weights MiB": round((4 * parameters(width)) / 2 ** 20, 1), "heap MiB": round(wasm_heap_bytes / 2 ** 20, 1),
      "workerd ms a row: 1, 32": `${round(one, 3)}, ${round(many, 3)}`, "workerd gain at 32": round(one / many),
      "workerd GFLOP/s: 1, 32": `${gflops(one)}, ${gflops(many)}`,
      "native ms a row: 1, 32": `${round(nativeOne, 3)}, ${round(nativeMany / ROWS, 3)}`, "native gain at 32": round(nativeOne / (nativeMany / ROWS)),
      "native GFLOP/s: 1, 32": `${gflops(nativeOne)}, ${gflops(nativeMany / ROWS)}`,
    });
    console.log(`kernel: width ${width} done`);
  }
} finally {
  await bare.stop();
}
console.log(`\n## onnxruntime-web's kernel by model size: one row against ${ROWS} rows a run, workerd and native onnxruntime (one thread each)`);
console.table(rows);
const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `kernel-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), ...provenance(), placement: placement ?? "scheduler", rows }, null, 2));
console.log(`kernel: written to ${file}`);
