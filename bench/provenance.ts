/** @module provenance: which code and which machine a benchmark run measured, kept with its figures. */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";

const git = (...args: string[]): string => {
  try {
    return execFileSync("git", args, { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
};

/** The commit (and whether the tree had changes on top of it) and the CPU, cores and memory. */
export function provenance() {
  const cpu = cpus();
  return {
    commit: git("rev-parse", "HEAD") || "unknown",
    dirty: git("status", "--porcelain", "--untracked-files=no") !== "",
    machine: { cpu: cpu[0]?.model ?? "unknown", cores: cpu.length, memory_gib: Math.round(totalmem() / 2 ** 30) },
  };
}
