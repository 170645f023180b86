/**
 * Values for every datatype, for the client's round trips through the `dtypes` demo model (an
 * Identity per datatype): each type's extremes. JSON carries 64-bit integers only within ±2^53;
 * binary tensors carry them whole, so the binary values go beyond.
 */

/** Input name of the `dtypes` model for a datatype: x_bool, ..., x_fp16, x_bytes. */
export const dtypeInput = (datatype: string) => `x_${datatype.toLowerCase()}`;

export const JSON_VALUES: Record<string, unknown[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 255, 7],
  UINT16: [0, 65535, 300],
  UINT32: [0, 4294967295, 70000],
  UINT64: [0, Number.MAX_SAFE_INTEGER, 5],
  INT8: [-128, 127, 0],
  INT16: [-32768, 32767, -1],
  INT32: [-2147483648, 2147483647, 42],
  INT64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -1],
  FP16: [0.5, -65504, 0.0001],
  FP32: [1.5, -3.4028234663852886e38, 1e-7],
  FP64: [Math.PI, -1.7976931348623157e308, 5e-324],
  BYTES: ["plain", "héllo wörld ✓", ""],
};

export const BINARY_VALUES: Record<string, unknown[]> = {
  ...JSON_VALUES,
  UINT64: [0n, 2n ** 64n - 1n, 2n ** 53n + 1n],
  INT64: [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n],
};

/** Values as the reference runtime's JSON tensors take them (64-bit integers as decimal strings). */
export const referenceData = (values: unknown[]) => values.map((v) => (typeof v === "bigint" ? v.toString() : v));

/** Values compared as text (bigints and the reference's decimal strings alike). */
export const asText = (values: readonly unknown[]) => values.map((v) => String(v));
