/** @module tensor/float16: IEEE 754 half-precision values, stored as their 16 bits. */
import { Float16Array } from "@petamoriken/float16";

/** Largest finite FP16 value. */
export const FP16_MAX = 65504;

/** Rounds numbers to the nearest half-precision values and returns their bits. */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const halves = Float16Array.from(values as number[]);
  return new Uint16Array(halves.buffer, halves.byteOffset, halves.length);
}

/** Reads half-precision bits back as numbers. */
export function fromFloat16Bits(bits: Uint16Array): number[] {
  return Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
}
