/** @module datatypes: the 13 KServe V2 datatypes and the typed array each one is held in. */

export type Datatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES";

export const DATATYPES: readonly Datatype[] = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

/** A fixed-size datatype's elements, as a typed array (FP16 as its IEEE half bits, BOOL as 0/1). */
export type NumericArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** What an output holds: a typed array, or (BYTES) its elements decoded as UTF-8 text. */
export type TensorData = NumericArray | string[];

interface TypedArrayClass {
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): NumericArray;
  new (length: number): NumericArray;
}

const ARRAY: Record<Exclude<Datatype, "BYTES">, TypedArrayClass> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array as unknown as TypedArrayClass,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array as unknown as TypedArrayClass,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

export function isDatatype(value: string): value is Datatype {
  return (DATATYPES as readonly string[]).includes(value);
}

/** The typed array class holding a fixed-size datatype. */
export function arrayClass(datatype: Exclude<Datatype, "BYTES">): TypedArrayClass {
  return ARRAY[datatype];
}

/** Bytes per element; 0 for BYTES, whose elements vary in length. */
export function elementSize(datatype: Datatype): number {
  return datatype === "BYTES" ? 0 : ARRAY[datatype].BYTES_PER_ELEMENT;
}

/** The number of elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}
