/** A git ref's files beside the working tree: the base the cold-start section (and the A/B experiments) compare with. */
import { execFileSync, execSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { root } from "./workers.ts";

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
