/**
 * Runs in Node (from vitest.config.ts), never in workerd: a fixture's model as onnxruntime-node
 * optimises it ahead of publishing (scripts/optimize-model.ts, graph optimisation "extended"),
 * served by the FIXTURES binding as `optimised/<key>`. Written once per test run, on first request.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";

const written = new Map<string, Promise<string>>();

/** The file holding `file`'s model optimised at "extended", written on first use. */
export function optimisedFile(key: string, file: string): Promise<string> {
  let out = written.get(key);
  if (!out) {
    const path = join(tmpdir(), `edge-inference-optimised-${process.pid}-${key.replace(/[^A-Za-z0-9.-]/g, "_")}`);
    out = ort.InferenceSession.create(file, { graphOptimizationLevel: "extended", optimizedModelFilePath: path, intraOpNumThreads: 1 }).then(async (s) => {
      await s.release();
      return path;
    });
    written.set(key, out);
  }
  return out;
}
