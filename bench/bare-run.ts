/**
 * The bare Worker's handling of one request (bench/bare-worker.ts's /run, and the baseline of
 * bench/experiments/loop-worker.ts): the inputs' raw bytes, in input order, become tensors of the
 * given shapes; the session runs (`n` times); the outputs' raw bytes are joined. No codec, checks
 * or statistics.
 */
import type { LoadedSession } from "../src/serving/loader";
import { fromBinary, toBinary } from "../src/tensor/binary";
import { datatypeInfo } from "../src/tensor/datatype";
import { elementCount, type Tensor } from "../src/tensor/tensor";

export async function bareRun(session: LoadedSession, shapes: number[][], body: Uint8Array, n = 1): Promise<Uint8Array> {
  let at = 0;
  const feeds: Tensor[] = session.inputs.map((spec, i) => {
    const shape = shapes[i]!;
    const size = elementCount(shape) * datatypeInfo(spec.datatype).size;
    const t = fromBinary(spec.name, spec.datatype, shape, body.subarray(at, at + size));
    at += size;
    return t;
  });
  const fetches = session.outputs.map((o) => o.name);
  let outputs: Tensor[] = [];
  for (let i = 0; i < n; i++) outputs = await session.run(feeds, fetches);
  const parts = outputs.map(toBinary);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
