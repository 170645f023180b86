/**
 * How long one inference takes, apart from any request around it: in the bare Worker (timed by
 * difference: K runs in one request less one run in another) and in native onnxruntime-node on
 * one thread, the same files and inputs. The benchmark's batching, native, levers and heap
 * sections and `npm run bench:kernel` use them.
 */
import { join } from "node:path";
import * as ortNode from "onnxruntime-node";
import { batchOf, rawInputs, shapesHeader, type Case } from "./cases.ts";
import { root, type Running } from "./workers.ts";

/** The middle value (the upper middle of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface Feed { shapes: string; body: Buffer }
export const feedOf = (c: Case): Feed => ({ shapes: shapesHeader(c), body: rawInputs(c) });

/** Milliseconds from sending a request to having read all of its answer; throws unless it is 2xx. */
export async function timedFetch(url: string, init: RequestInit = {}): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status}`);
  return performance.now() - started;
}

export function bareRun(bare: Running, c: Case, feed: Feed, n = 1): Promise<number> {
  return timedFetch(`${bare.url}/run/${c.model}?n=${n}`, { method: "POST", headers: { "x-shapes": feed.shapes }, body: feed.body });
}

/**
 * Per-inference time inside the Worker: (time of K runs − time of 1 run) / (K − 1), median of 5;
 * with `rows`, one run is a batch of that many rows and K shrinks to match.
 */
export async function perInference(bare: Running, c: Case, rows = 1): Promise<number> {
  const feed = rows === 1 ? feedOf(c) : (({ shapes, bytes }) => ({ shapes: JSON.stringify(shapes), body: bytes }))(batchOf(c, rows));
  const loop = Math.max(4, Math.ceil(c.loop / rows));
  await bareRun(bare, c, feed, 3);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const one = await bareRun(bare, c, feed, 1);
    const many = await bareRun(bare, c, feed, loop);
    samples.push((many - one) / (loop - 1));
  }
  return median(samples);
}

/**
 * Per-run time in native onnxruntime-node on one thread, same file and inputs, for each of
 * `rowCounts`: one run is a batch of that many rows (the same batch the bare Worker runs), the
 * loop shrinking to match. One session serves them all.
 */
export async function nativePerRun<const R extends readonly number[]>(c: Case, rowCounts: R): Promise<{ [K in keyof R]: number }> {
  const session = await ortNode.InferenceSession.create(join(root, c.file), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all" });
  const times: number[] = [];
  for (const rows of rowCounts) {
    const { shapes, bytes } = batchOf(c, rows);
    let at = 0;
    const feeds = Object.fromEntries(
      c.inputs.map((i, k) => {
        const shape = shapes[k]!;
        const size = shape.reduce((n, d) => n * d, 1) * (i.datatype === "INT64" ? 8 : 4);
        const own = new Uint8Array(bytes.subarray(at, (at += size))).buffer;
        return [i.name, i.datatype === "INT64" ? new ortNode.Tensor("int64", new BigInt64Array(own), shape) : new ortNode.Tensor("float32", new Float32Array(own), shape)];
      }),
    );
    const loop = Math.max(4, Math.ceil(c.loop / rows));
    for (let i = 0; i < 5; i++) await session.run(feeds);
    const samples: number[] = [];
    for (let r = 0; r < 5; r++) {
      const started = performance.now();
      for (let i = 0; i < loop; i++) await session.run(feeds);
      samples.push((performance.now() - started) / loop);
    }
    times.push(median(samples));
  }
  await session.release();
  return times as { [K in keyof R]: number };
}
