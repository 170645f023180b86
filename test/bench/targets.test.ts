/** The speed targets as bench/targets.ts judges a run: on the full runs kept in bench/runs/, on an older one kept here, and on partial ones. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { targets, type RunResults } from "../../bench/targets.ts";

const runs = fileURLToPath(new URL("../../bench/runs", import.meta.url));
const kept = readdirSync(runs).filter((f) => f.endsWith(".json")).sort();
const load = (f: string) => JSON.parse(readFileSync(join(runs, f), "utf8")) as RunResults;
/** The eleventh full run, which bench/runs/ no longer keeps: a fixture with known verdicts. */
const eleventh = fileURLToPath(new URL("fixtures/2026-12-01T04-17-38-625Z.json", import.meta.url));

describe("the targets judged on a run", () => {
  it("judges every target on each kept full run, each verdict following its figure", () => {
    expect(kept.length).toBeGreaterThan(0);
    for (const f of kept) {
      const run = load(f);
      const rows = targets(run);
      expect(rows.map((r) => r.verdict), f).not.toContain("not measured");
      const binary = run.json_binary!.find((r) => r.model === "image-linear")!;
      expect(rows[1]!.verdict, f).toBe((binary["binary/JSON throughput"] as number) >= 5 ? "met" : "not met");
      const mlp = run.batching!.find((r) => r.model === "mlp" && r.connections === 32)!;
      expect(rows[2]!.verdict, f).toBe((mlp["on/off (median)"] as number) >= 2 ? "met" : "not met");
    }
  });

  it("reads the eleventh run as the README does: binary and batching met, the overhead met for the MLP only", () => {
    const rows = targets(JSON.parse(readFileSync(eleventh, "utf8")) as RunResults);
    expect(rows.map((r) => r.verdict)).toEqual(["partly met", "met", "met", "reported", "reported"]);
    expect(rows[0]!["this run"]).toContain("mlp 1.18");
    expect(rows[1]!["this run"]).toMatch(/^7\.9× flat JSON, 8\.6× nested$/);
    expect(rows[2]!["this run"]).toMatch(/^2\.15× \(pairs 1\.94–2\.19\)/);
  });

  it("names the levers past the default at one row and, where measured, at 8 rows a run", () => {
    const [, , , , levers] = targets({
      levers: [{ model: "mlp", "default ms (median)": 1.5, "no prepacking": 0.75, "graph basic": 1.02 }],
      levers_at_8_rows: [{ model: "mlp", "default ms a row (median)": 0.9, "no prepacking": 2.4, "graph basic": 0.85 }],
    });
    expect(levers!["this run"]).toBe("2 levers on 1 models; below 0.9 of the default this run: mlp no prepacking 0.75; at 8 rows a run, below 0.9: mlp graph basic 0.85; above 1.1: mlp no prepacking 2.40");
  });

  it("sets the batching figure beside what inference alone, and native onnxruntime, gain from 32 rows", () => {
    const batching = [{ model: "mlp", connections: 32, "on/off (median)": 1.43, "on/off range": "1.36–1.47" }];
    const bound = { model: "mlp", "inference speed-up at 32": 1.51 };
    expect(targets({ batching })[2]!["this run"]).toBe("1.43× (pairs 1.36–1.47)");
    expect(targets({ batching, batching_inference: [bound] })[2]!["this run"]).toBe("1.43× (pairs 1.36–1.47); inference alone 1.51× a row at 32 rows");
    const withNative = targets({ batching, batching_inference: [{ ...bound, "native speed-up at 32": 4 }] })[2]!;
    expect(withNative["this run"]).toBe("1.43× (pairs 1.36–1.47); inference alone 1.51× a row at 32 rows (native onnxruntime 4.00×)");
    expect(withNative.verdict).toBe("not met");
  });

  it("says which targets a partial run did not measure", () => {
    const full = load(kept.at(-1)!);
    const rows = targets({ batching: full.batching });
    expect(rows.map((r) => r.verdict)).toEqual(["not measured", "not measured", rows[2]!.verdict, "not measured", "not measured"]);
    expect(["met", "not met"]).toContain(rows[2]!.verdict);
    expect(targets({}).every((r) => r.verdict === "not measured")).toBe(true);
  });
});
