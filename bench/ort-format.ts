/**
 * The ORT format lever (`npm run bench -- ort-format`): does onnxruntime-web create a session
 * markedly faster from a model onnxruntime-node optimised and wrote in ORT format (.ort) than
 * from the ONNX file? Each form is loaded into the bare Worker (the same loader as the service) in
 * rotating order, and its creation timed by the isolate's clock (whole milliseconds); the figures
 * are ratios to the service's way (the .onnx with every graph optimisation) measured in the same
 * rounds. Each form's run time is set against the .onnx's too: a cheaper creation must not buy slower runs.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ortNode from "onnxruntime-node";
import { CASES, modelBytes, type Case } from "./cases.ts";
import { median, perInference } from "./inference-time.ts";
import { root, type Running } from "./workers.ts";

const ROUNDS = Math.max(3, Number(process.env.BENCH_ORT_ROUNDS ?? 5));
/** The models to measure (comma-separated; all by default). */
const MODELS = process.env.BENCH_ORT_MODELS?.split(",");

/** A form of a model: its bytes and the graph optimisation the session is created with. */
interface Form {
  name: string;
  bytes: Buffer;
  level: "disabled" | "all";
}

/** The model optimised by onnxruntime-node at `level` and written to `ext` (.ort: ORT format), in bench/.models/. */
export async function optimised(c: Case, level: "basic" | "extended", ext: ".ort" | ".onnx"): Promise<Buffer> {
  const dir = join(root, "bench", ".models", "optimised");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${c.model}-${level}${ext}`);
  // Above "extended" onnxruntime would write kernels for this CPU's layout (NCHWc), not portable to WebAssembly.
  const session = await ortNode.InferenceSession.create(join(root, c.file), { graphOptimizationLevel: level, optimizedModelFilePath: out, intraOpNumThreads: 1 });
  await session.release();
  return readFileSync(out);
}

async function load(bare: Running, c: Case, form: Form): Promise<number> {
  const res = await fetch(`${bare.url}/load/${c.model}?tuning=${encodeURIComponent(JSON.stringify({ graphOptimizationLevel: form.level }))}`, { method: "PUT", body: form.bytes });
  if (!res.ok) throw new Error(`load ${c.model} as ${form.name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { create_ms: number }).create_ms;
}

/** Per model: each form's size and session creation against the .onnx's, and its run time against the .onnx's. */
export async function ortFormatRows(bare: Running): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const c of MODELS ? CASES.filter((x) => MODELS.includes(x.model)) : CASES) {
    const forms: Form[] = [
      { name: ".onnx, all", bytes: modelBytes(c), level: "all" },
      { name: ".onnx, disabled", bytes: modelBytes(c), level: "disabled" },
      { name: ".onnx optimised (extended), disabled", bytes: await optimised(c, "extended", ".onnx"), level: "disabled" },
      { name: ".ort (extended), disabled", bytes: await optimised(c, "extended", ".ort"), level: "disabled" },
      { name: ".ort (extended), all", bytes: await optimised(c, "extended", ".ort"), level: "all" },
    ];
    await load(bare, c, forms[0]!); // onnxruntime's start and the code's first use, paid by none of the forms
    const times = new Map<string, number[]>(forms.map((f) => [f.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < forms.length; k++) {
        const form = forms[(k + r) % forms.length]!;
        times.get(form.name)!.push(await load(bare, c, form));
      }
    }
    // Each form's run against the .onnx's measured just before it, in two passes of opposite
    // order (a lone pass favours whatever runs later); the mean of the two ratios.
    const runs = new Map<string, number[]>();
    for (const pass of [forms.slice(1), forms.slice(1).reverse()]) {
      for (const form of pass) {
        await load(bare, c, forms[0]!);
        const base = await perInference(bare, c);
        await load(bare, c, form);
        runs.set(form.name, [...(runs.get(form.name) ?? []), (await perInference(bare, c)) / base]);
      }
    }
    const base = median(times.get(forms[0]!.name)!);
    const runRatio = (name: string) => (name === forms[0]!.name ? 1 : runs.get(name)!.reduce((a, b) => a + b, 0) / runs.get(name)!.length);
    for (const form of forms) {
      rows.push({
        model: c.model, form: form.name, "KiB": Math.round(form.bytes.length / 1024),
        "creation ms (median)": Number(median(times.get(form.name)!).toFixed(1)),
        "creation ÷ .onnx all": Number((median(times.get(form.name)!) / base).toFixed(2)),
        "run ÷ .onnx all": Number(runRatio(form.name).toFixed(2)),
      });
    }
  }
  return rows;
}
