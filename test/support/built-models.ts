/**
 * Runs in Node (from vitest.config.ts), never in workerd: models the tests build with onnx-proto
 * rather than keep in the repository. Each is written once to a temporary folder and served by the
 * FIXTURES binding under `built/<file>`, like a candidate, so onnxruntime-node answers for it too.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel, onnx, T, valueInfo, writeModelOnce } from "../../scripts/onnx-build.ts";

/**
 * ConstantOfShape: `shape` (INT64 [2]) → `filled`, a FP32 tensor of that shape whose every element
 * is 0.5. Its output's size is whatever the request asks for: a tiny request, a huge answer.
 */
function constantOfShape(): Uint8Array {
  const value = onnx.TensorProto.create({ name: "value", dims: [1], dataType: T.FLOAT, floatData: [0.5] });
  const graph = onnx.GraphProto.create({
    name: "constant_of_shape",
    node: [{ opType: "ConstantOfShape", input: ["shape"], output: ["filled"], attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: value }] }],
    input: [valueInfo("shape", T.INT64, [2])],
    output: [valueInfo("filled", T.FLOAT, ["rows", "columns"])],
  });
  return encodeModel(graph, "ConstantOfShape: an answer as large as the request asks (tests of response limits).", "edge-inference/test/support/built-models.ts");
}

/**
 * Expand to a constant shape of 2^28: `x` FP32 [1] → `y` FP32 [2^28], a gigabyte from a 4-byte
 * input whatever the request, so only a run (not the file's size) shows its memory.
 */
function expandBomb(): Uint8Array {
  const target = onnx.TensorProto.create({ name: "target", dims: [1], dataType: T.INT64, int64Data: [2 ** 28] });
  const graph = onnx.GraphProto.create({
    name: "expand_bomb",
    node: [{ opType: "Expand", input: ["x", "target"], output: ["y"] }],
    initializer: [target],
    input: [valueInfo("x", T.FLOAT, [1])],
    output: [valueInfo("y", T.FLOAT, [2 ** 28])],
  });
  return encodeModel(graph, "Expand to 2^28 floats: a model whose first run needs a gigabyte (tests of the heap cap).", "edge-inference/test/support/built-models.ts");
}

const BUILDERS: Record<string, () => Uint8Array> = { "constant-of-shape.onnx": constantOfShape, "expand-bomb.onnx": expandBomb };

/** Every built model as a fixture key (`built/<file>`) and the file holding it. */
export function builtSources(): { key: string; file: string }[] {
  const dir = join(tmpdir(), `edge-inference-built-models-${process.pid}`);
  return Object.entries(BUILDERS).map(([name, build]) => {
    const file = join(dir, name);
    writeModelOnce(file, build);
    return { key: `built/${name}`, file };
  });
}
