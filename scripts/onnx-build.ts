/** Small helpers for writing ONNX graphs with onnx-proto (the demo models and the bench's models). */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";

const require = createRequire(import.meta.url);
export const { onnx } = require("onnx-proto") as typeof import("onnx-proto");
export type Graph = import("onnx-proto").onnx.IGraphProto;
export const T = onnx.TensorProto.DataType;
const OPSET = 17;

type Dim = number | string;

/** A graph input or output: name, element type and shape (numbers fixed, strings symbolic). */
export function valueInfo(name: string, elemType: number, shape: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** An FP32 initializer. */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>) {
  return onnx.TensorProto.create({ name, dims, dataType: T.FLOAT, floatData: Array.from(values) });
}

/** An INT64 initializer (a shape for Reshape, say). */
export function int64Tensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({ name, dims, dataType: T.INT64, int64Data: values });
}

/** An INT attribute. */
export const intAttribute = (name: string, i: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

/** An INTS attribute. */
export const intsAttribute = (name: string, ints: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** A FLOAT attribute. */
export const floatAttribute = (name: string, f: number) => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });

/** The model's bytes: `graph` at opset 17, IR version 8. */
export function encodeModel(graph: Graph, docString: string, producerName: string): Uint8Array {
  const proto = onnx.ModelProto.create({ irVersion: 8, producerName, docString, opsetImport: [{ domain: "", version: OPSET }], graph });
  return onnx.ModelProto.encode(proto).finish();
}

/** Writes the model `build` makes to `path` unless a file is there already (models built, not kept). */
export function writeModelOnce(path: string, build: () => Uint8Array): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, build());
}
