/**
 * @module tensor/classification: Triton's classification extension (extension_classification.md):
 * an output's k highest-valued classes per row, as a BYTES tensor of "<score>:<index>[:<label>]".
 * Pure.
 */
import { invalid } from "../errors";
import { fromFloat16Bits } from "./float16";
import { elementCount, formatShape, type Tensor } from "./tensor";

/** How an output divides into rows and classes: the first dimension is the batch when it has two or more. */
export function classLayout(shape: readonly number[]): { rows: number; classes: number; batched: boolean } {
  if (shape.length < 2) return { rows: 1, classes: elementCount(shape), batched: false };
  return { rows: shape[0]!, classes: elementCount(shape.slice(1)), batched: true };
}

/**
 * The class count of an output from its declared shape (-1 for a dynamic dimension), or a reason
 * it has none fixed: the labels of an output must match it.
 */
export function declaredClasses(name: string, shape: readonly number[]): number | string {
  const dims = shape.length < 2 ? shape : shape.slice(1);
  if (dims.some((d) => d < 0)) {
    return `output '${name}' has shape ${formatShape(shape)}, whose class dimension${shape.length < 2 ? "" : "s (after the batch)"} is not fixed`;
  }
  return elementCount(dims);
}

/** Whether an output's datatype has an order to rank classes by (Triton's: the numeric ones). */
export const rankable = (datatype: string): boolean => datatype !== "BOOL" && datatype !== "BYTES";

/** The elements as numbers or bigints, in order. */
function values(t: Tensor): ArrayLike<number | bigint> {
  if (t.datatype === "FP16") return fromFloat16Bits(t.data as Uint16Array);
  return t.data as ArrayLike<number | bigint>;
}

/** The shortest decimal that reads back as the same float32 (as the FP32 value was produced). */
function float32Text(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let digits = 1; digits < 9; digits++) {
    const text = Number(v.toPrecision(digits)).toString();
    if (Math.fround(Number(text)) === v) return text;
  }
  return v.toString();
}

function scoreText(datatype: string): (v: number | bigint) => string {
  // -0 keeps its sign, as the value has it (String(-0) is "0").
  if (datatype === "FP32" || datatype === "FP16") return (v) => (Object.is(v, -0) ? "-0" : float32Text(v as number));
  return (v) => (Object.is(v, -0) ? "-0" : String(v));
}

/**
 * The k highest-valued classes of each row of `output`, highest first (ties by lower index, NaN
 * last), as "<score>:<index>" or, with `labels`, "<score>:<index>:<label>". Shape [rows, k] for a
 * batched output, [k] otherwise.
 */
export function classify(output: Tensor, k: number, labels?: readonly string[]): Tensor {
  if (!rankable(output.datatype)) {
    throw invalid(`output '${output.name}' is ${output.datatype}; classification ranks numeric outputs only`);
  }
  const { rows, classes, batched } = classLayout(output.shape);
  if (k > classes) {
    throw invalid(`output '${output.name}' parameter 'classification' asks for ${k} classes, but the output has ${classes} per row (shape ${formatShape(output.shape)})`);
  }
  const all = values(output);
  const text = scoreText(output.datatype);
  const data: string[] = [];
  const order = new Uint32Array(classes);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    for (let i = 0; i < classes; i++) order[i] = i;
    order.sort((a, b) => {
      const va = all[base + a]!;
      const vb = all[base + b]!;
      const nanA = va !== va;
      const nanB = vb !== vb;
      if (nanA || nanB) return nanA === nanB ? a - b : nanA ? 1 : -1;
      return vb > va ? 1 : vb < va ? -1 : a - b;
    });
    for (let j = 0; j < k; j++) {
      const index = order[j]!;
      const head = `${text(all[base + index]!)}:${index}`;
      data.push(labels ? `${head}:${labels[index]}` : head);
    }
  }
  return { name: output.name, datatype: "BYTES", shape: batched ? [rows, k] : [k], data };
}
