/** @module tensor/datatype: the element types a tensor can hold, in KServe, ONNX Runtime and TF Serving names. */

/** KServe V2 / Open Inference Protocol datatype names. */
export const DATATYPES = [
  "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
  "FP16", "FP32", "FP64", "BYTES",
] as const;
export type Datatype = (typeof DATATYPES)[number];

/** ONNX Runtime (web and node) tensor type names. */
export type OrtType =
  | "bool" | "uint8" | "uint16" | "uint32" | "uint64" | "int8" | "int16" | "int32" | "int64"
  | "float16" | "float32" | "float64" | "string";

type NumericArray =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | Int8Array | Int16Array | Int32Array
  | BigInt64Array | Float32Array | Float64Array;

/**
 * Element storage: a typed array for numbers (BOOL as 0/1 bytes, FP16 as IEEE half bits in a
 * Uint16Array), strings for BYTES.
 */
export type TensorData = NumericArray | string[];

interface DatatypeInfo {
  ort: OrtType;
  tf: string;
  /** Bytes per element in the binary wire format; 0 for variable-length BYTES. */
  size: number;
  array: ((n: number) => TensorData);
  /** Inclusive range for integer types. */
  min?: bigint;
  max?: bigint;
}

const int = (bits: number, signed: boolean) =>
  signed
    ? { min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n }
    : { min: 0n, max: (1n << BigInt(bits)) - 1n };

const INFO: Record<Datatype, DatatypeInfo> = {
  BOOL: { ort: "bool", tf: "DT_BOOL", size: 1, array: (n) => new Uint8Array(n) },
  UINT8: { ort: "uint8", tf: "DT_UINT8", size: 1, array: (n) => new Uint8Array(n), ...int(8, false) },
  UINT16: { ort: "uint16", tf: "DT_UINT16", size: 2, array: (n) => new Uint16Array(n), ...int(16, false) },
  UINT32: { ort: "uint32", tf: "DT_UINT32", size: 4, array: (n) => new Uint32Array(n), ...int(32, false) },
  UINT64: { ort: "uint64", tf: "DT_UINT64", size: 8, array: (n) => new BigUint64Array(n), ...int(64, false) },
  INT8: { ort: "int8", tf: "DT_INT8", size: 1, array: (n) => new Int8Array(n), ...int(8, true) },
  INT16: { ort: "int16", tf: "DT_INT16", size: 2, array: (n) => new Int16Array(n), ...int(16, true) },
  INT32: { ort: "int32", tf: "DT_INT32", size: 4, array: (n) => new Int32Array(n), ...int(32, true) },
  INT64: { ort: "int64", tf: "DT_INT64", size: 8, array: (n) => new BigInt64Array(n), ...int(64, true) },
  FP16: { ort: "float16", tf: "DT_HALF", size: 2, array: (n) => new Uint16Array(n) },
  FP32: { ort: "float32", tf: "DT_FLOAT", size: 4, array: (n) => new Float32Array(n) },
  FP64: { ort: "float64", tf: "DT_DOUBLE", size: 8, array: (n) => new Float64Array(n) },
  BYTES: { ort: "string", tf: "DT_STRING", size: 0, array: (n) => new Array<string>(n).fill("") },
};

const BY_ORT: ReadonlyMap<string, Datatype> = new Map<string, Datatype>(DATATYPES.map((d) => [INFO[d].ort, d]));

/** True when `name` is a KServe datatype name. */
export function isDatatype(name: unknown): name is Datatype {
  return typeof name === "string" && (DATATYPES as readonly string[]).includes(name);
}

/** Facts about one datatype. */
export function datatypeInfo(d: Datatype): Readonly<DatatypeInfo> {
  return INFO[d];
}

/** The KServe datatype of an ONNX Runtime type, or undefined for one this service cannot carry. */
export function fromOrtType(t: string): Datatype | undefined {
  return BY_ORT.get(t);
}

/** Range of an integer datatype, undefined for the others. */
export function integerRange(d: Datatype): { min: bigint; max: bigint } | undefined {
  const { min, max } = INFO[d];
  return min === undefined || max === undefined ? undefined : { min, max };
}
