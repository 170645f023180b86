/** What the two A/B benchmarks (bench/ab.ts in one isolate, bench/ab-http.ts over HTTP) share. */
import { execFileSync, execSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { CASES, type Case } from "./cases.ts";
import { root } from "./workers.ts";

/** The benchmark cases of these models; throws naming the cases there are. */
export function casesNamed(models: readonly string[]): Case[] {
  return models.map((m) => {
    const c = CASES.find((x) => x.model === m);
    if (!c) throw new Error(`no case ${m}; cases: ${CASES.map((x) => x.model).join(", ")}`);
    return c;
  });
}

/** The median (the mean of the middle two for an even count). */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * The files `paths` as they are at git `ref`, in `dir` (emptied first; under bench/.ab/, not
 * committed), with the root's node_modules linked in so both copies share one onnxruntime.
 * Returns the commit.
 */
export function checkOut(ref: string, dir: string, paths: readonly string[]): string {
  const commit = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { cwd: root, encoding: "utf8" }).trim();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git archive ${commit} ${paths.join(" ")} | tar -x -C "${dir}"`, { cwd: root });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return commit;
}
