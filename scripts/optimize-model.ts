/**
 * Optimises an ONNX model's graph once, ahead of publishing, with onnxruntime-node: the optimised
 * model is still ONNX, and a model published in this form with `"onnxruntime":
 * {"graph_optimization_level": "disabled"}` in its config spares every isolate that optimisation
 * when it creates the session (docs/cold-start.md). Level "extended" at most: above it onnxruntime
 * writes kernels for this machine's CPU layout (NCHWc), which onnxruntime-web does not have.
 *
 * Usage: npm run optimize-model -- <model.onnx> <out.onnx> [basic|extended]
 */
import * as ort from "onnxruntime-node";

const [input, output, level = "extended"] = process.argv.slice(2);
if (!input || !output || !output.endsWith(".onnx") || !["basic", "extended"].includes(level)) {
  console.error("usage: npm run optimize-model -- <model.onnx> <out.onnx> [basic|extended]");
  process.exit(2);
}
const session = await ort.InferenceSession.create(input, { graphOptimizationLevel: level as "basic" | "extended", optimizedModelFilePath: output, intraOpNumThreads: 1 });
await session.release();
console.log(`written: ${output} (graph optimisation "${level}"); publish it with graph_optimization_level "disabled" in the model's config`);
