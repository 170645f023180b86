/**
 * @module float16: IEEE 754 half precision to and from numbers, for FP16 tensors given or read as
 * numbers (few runtimes have Float16Array yet). Rounds to nearest, ties to even.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-precision bits nearest to `value`. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf or NaN
  // Rounding from float32 first, then half, could double-round; this works from the double.
  const abs = Math.abs(value);
  if (abs >= 65520) return sign | 0x7c00; // rounds to infinity
  if (abs < 2 ** -24 / 2 || abs === 0) return sign; // rounds to zero (half the smallest subnormal)
  if (abs < 2 ** -14) {
    // Subnormal: multiples of 2^-24, ties to even.
    return sign | roundHalfEven(abs / 2 ** -24);
  }
  const e = Math.floor(Math.log2(abs));
  // log2 can be off by one near powers of two.
  const exp = abs >= 2 ** (e + 1) ? e + 1 : abs < 2 ** e ? e - 1 : e;
  mantissa = roundHalfEven((abs / 2 ** exp - 1) * 1024);
  // A mantissa that rounds up to 1024 carries into the exponent, which the addition below does.
  return sign | (((exp + 15) << 10) + mantissa);
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The number half-precision `bits` stand for. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
