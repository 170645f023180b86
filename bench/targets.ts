/**
 * The speed targets (issue 5) judged from one run's results (bench/run.ts's JSON): what each
 * section measured against its target, and whether this run met it. `npm run bench` prints it
 * last; `npm run bench:targets [results.json ...]` prints it for kept runs (default
 * bench/results/latest.json). A target whose section did not run says so.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The model the batching target is judged on: small, and its runs gain from rows (matrix products). */
export const BATCHING_MODEL = "mlp";
/** The request the binary target is judged on: 1×3×224×224 FP32 into a model that does little with it. */
export const BINARY_MODEL = "image-linear";

type Row = Record<string, unknown>;
/** The sections' rows, as bench/run.ts writes them (every field optional: a section may not have run). */
export interface RunResults {
  overhead?: Row[];
  overhead_bound?: Row[];
  json_binary?: Row[];
  batching?: Row[];
  batching_inference?: Row[];
  native?: Row[];
  levers?: Row[];
  levers_at_8_rows?: Row[];
}

/** One target: what it asks, what this run measured, and whether it met it. */
export interface TargetRow {
  target: string;
  "this run": string;
  verdict: "met" | "partly met" | "not met" | "reported" | "not measured";
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number.NaN);
const list = (rows: Row[], field: string, digits = 2) => rows.map((r) => `${String(r.model)} ${num(r[field]).toFixed(digits)}`).join(", ");

/** Judges a run's results against the targets. */
export function targets(r: RunResults): TargetRow[] {
  const out: TargetRow[] = [];

  const overhead = r.overhead ?? [];
  if (overhead.length === 0) {
    out.push({ target: "full service ≥ 0.9 of the bare Worker's throughput", "this run": "", verdict: "not measured" });
  } else {
    const ratio = (m: Row) => num(m["service, no log line/bare"]);
    const met = overhead.filter((m) => ratio(m) >= 0.9);
    // Where the service's fixed cost per keyed request alone leaves no room for 0.9 (run.ts's bound).
    const bounds = (r.overhead_bound ?? []).filter((b) => num(b["bound: bare / (bare + fixed)"]) < 0.9).map((b) => `${String(b.model)} ${num(b["bound: bare / (bare + fixed)"]).toFixed(2)}`);
    out.push({
      target: "full service ≥ 0.9 of the bare Worker's throughput (binary, 4 clients, no log line)",
      "this run": `${list(overhead, "service, no log line/bare")}${bounds.length ? `; the service's fixed cost alone caps ${bounds.join(", ")}` : ""}`,
      verdict: met.length === overhead.length ? "met" : met.length > 0 ? "partly met" : "not met",
    });
  }

  const binary = (r.json_binary ?? []).find((x) => x.model === BINARY_MODEL);
  out.push(
    binary
      ? {
          target: `binary tensors ≥ 5× JSON end to end (${BINARY_MODEL}, 1×3×224×224 FP32)`,
          "this run": `${num(binary["binary/JSON throughput"]).toFixed(1)}× flat JSON${binary["binary/nested JSON"] === undefined ? "" : `, ${num(binary["binary/nested JSON"]).toFixed(1)}× nested`}`,
          verdict: num(binary["binary/JSON throughput"]) >= 5 ? "met" : "not met",
        }
      : { target: "binary tensors ≥ 5× JSON end to end", "this run": "", verdict: "not measured" },
  );

  const at32 = (r.batching ?? []).filter((x) => x.connections === 32);
  const batched = at32.find((x) => x.model === BATCHING_MODEL);
  // What rows run together gain in inference alone (the bare Worker), and in native onnxruntime.
  const bound = (r.batching_inference ?? []).find((x) => x.model === BATCHING_MODEL);
  const batchingText = (b: Row) =>
    [
      `${num(b["on/off (median)"]).toFixed(2)}× (pairs ${String(b["on/off range"])})`,
      at32.filter((x) => x !== b).map((x) => `${String(x.model)} ${num(x["on/off (median)"]).toFixed(2)}×`).join(", "),
      bound
        ? `inference alone ${num(bound["inference speed-up at 32"]).toFixed(2)}× a row at 32 rows${bound["native speed-up at 32"] === undefined ? "" : ` (native onnxruntime ${num(bound["native speed-up at 32"]).toFixed(2)}×)`}`
        : "",
    ].filter((part) => part !== "").join("; ");
  out.push(
    batched
      ? {
          target: `dynamic batching ≥ 2× throughput at 32 clients (${BATCHING_MODEL})`,
          "this run": batchingText(batched),
          verdict: num(batched["on/off (median)"]) >= 2 ? "met" : "not met",
        }
      : { target: "dynamic batching ≥ 2× throughput at 32 clients", "this run": "", verdict: "not measured" },
  );

  const native = r.native ?? [];
  out.push({ target: "workerd ÷ native onnxruntime-node per inference", "this run": native.length ? list(native, "workerd/native") : "", verdict: native.length ? "reported" : "not measured" });

  const levers = r.levers ?? [];
  /** The levers of `rows` whose ratio to the default passes `test`. */
  const past = (rows: Row[], test: (v: number) => boolean) =>
    rows.flatMap((row) =>
      Object.entries(row)
        .filter(([k, v]) => k !== "model" && !k.startsWith("default ") && typeof v === "number" && test(v))
        .map(([k, v]) => `${String(row.model)} ${k} ${(v as number).toFixed(2)}`),
    );
  const eight = r.levers_at_8_rows ?? [];
  const atEight = eight.length
    ? `; at 8 rows a run, below 0.9: ${past(eight, (v) => v < 0.9).join(", ") || "none"}; above 1.1: ${past(eight, (v) => v > 1.1).join(", ") || "none"}`
    : "";
  out.push({
    target: "onnxruntime's levers tried (each against the default measured just before it)",
    "this run": levers.length ? `${Object.keys(levers[0]!).length - 2} levers on ${levers.length} models; below 0.9 of the default this run: ${past(levers, (v) => v < 0.9).join(", ") || "none"}${atEight}` : "",
    verdict: levers.length ? "reported" : "not measured",
  });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0 && !existsSync("bench/results/latest.json")) {
    console.error("no run in bench/results/ yet: `npm run bench`, or judge the kept runs: npm run bench:targets bench/runs/*.json");
    process.exit(1);
  }
  for (const file of files.length ? files : ["bench/results/latest.json"]) {
    console.log(`\n## Targets: ${file}`);
    console.table(targets(JSON.parse(readFileSync(file, "utf8")) as RunResults));
  }
}
