/**
 * Runs in Node (from vitest.config.ts), never in workerd: the reference runtime. Native
 * onnxruntime-node computes the expected outputs for the same model file and the same inputs, so
 * no expected output is ever typed in by hand.
 */
import { Float16Array } from "@petamoriken/float16";
import ort from "onnxruntime-node";

/** A tensor in KServe JSON form; 64-bit integers beyond 2^53 travel as decimal strings. */
export interface JsonTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

const ORT_TYPE: Record<string, string> = {
  BOOL: "bool", UINT8: "uint8", UINT16: "uint16", UINT32: "uint32", UINT64: "uint64", INT8: "int8",
  INT16: "int16", INT32: "int32", INT64: "int64", FP16: "float16", FP32: "float32", FP64: "float64", BYTES: "string",
};
const DATATYPE = Object.fromEntries(Object.entries(ORT_TYPE).map(([k, v]) => [v, k]));

function toOrt(t: JsonTensor): ort.Tensor {
  const d = t.data;
  switch (t.datatype) {
    case "BOOL": return new ort.Tensor("bool", Uint8Array.from(d as boolean[], (v) => (v ? 1 : 0)), t.shape);
    case "BYTES": return new ort.Tensor("string", d as string[], t.shape);
    case "FP16": {
      const halves = Float16Array.from(d as number[]);
      return new ort.Tensor("float16", new Uint16Array(halves.buffer), t.shape);
    }
    case "INT64": return new ort.Tensor("int64", BigInt64Array.from(d as number[], (v) => BigInt(v)), t.shape);
    case "UINT64": return new ort.Tensor("uint64", BigUint64Array.from(d as number[], (v) => BigInt(v)), t.shape);
    default: return new ort.Tensor(ORT_TYPE[t.datatype] as "float32", d as number[], t.shape);
  }
}

function fromOrt(name: string, v: ort.Tensor): JsonTensor {
  const datatype = DATATYPE[v.type]!;
  let data: unknown[];
  if (datatype === "BOOL") data = Array.from(v.data as Uint8Array, (x) => x !== 0);
  else if (datatype === "FP16") data = Array.from(new Float16Array((v.data as Uint16Array).buffer));
  else if (typeof (v.data as BigInt64Array)[0] === "bigint") {
    data = Array.from(v.data as BigInt64Array, (x) => (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()));
  } else data = Array.from(v.data as ArrayLike<unknown>);
  return { name, datatype, shape: [...v.dims], data };
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** Runs the model file on the inputs and returns every output (or the ones named). */
export async function referenceRun(file: string, inputs: JsonTensor[], outputs?: string[]): Promise<JsonTensor[]> {
  let session = sessions.get(file);
  if (!session) sessions.set(file, (session = ort.InferenceSession.create(file)));
  const s = await session;
  const feeds = Object.fromEntries(inputs.map((t) => [t.name, toOrt(t)]));
  const names = outputs ?? [...s.outputNames];
  const result = await s.run(feeds, names);
  return names.map((n) => fromOrt(n, result[n]!));
}
