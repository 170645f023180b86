/**
 * Seeds the local R2 bucket of `wrangler dev` with the demo repository (scripts/model-sources.ts).
 * Idempotent: an object whose stored sha256 matches the file is left alone, and so is anything an
 * operator wrote through the admin API (a config edited with eictl survives a restart). Run:
 * `npm run seed`.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPlatformProxy, unstable_readConfig } from "wrangler";
import { modelSources, projectRoot } from "./model-sources.ts";

/**
 * Whether an object was written by this seeding (and so may be refreshed): marked so, or from
 * before the mark existed (a sha256 but no signature, which the admin API always records).
 */
function seeded(head: R2Object): boolean {
  const meta = head.customMetadata ?? {};
  return meta.source === "seed" || (meta.sha256 !== undefined && meta.signature === undefined);
}

/** Puts every demo object into the local MODELS bucket; returns how many were written. */
export async function seedLocalBucket(): Promise<{ written: string[]; unchanged: number }> {
  // Only the bucket's binding, from wrangler.toml: the full config would start the Worker's Durable
  // Object bindings without their classes, and wrangler warns that they "will not work" (they do,
  // under `wrangler dev`). The same persistence directory as `wrangler dev` (.wrangler/state), so
  // the Worker sees these objects.
  const config = unstable_readConfig({ config: join(projectRoot, "wrangler.toml") });
  const models = config.r2_buckets.find((b: { binding: string }) => b.binding === "MODELS");
  if (!models?.bucket_name) throw new Error("wrangler.toml has no MODELS R2 bucket");
  const dir = await mkdtemp(join(tmpdir(), "edge-inference-seed-"));
  const configPath = join(dir, "wrangler.json");
  await writeFile(configPath, JSON.stringify({ name: config.name, compatibility_date: config.compatibility_date, r2_buckets: [{ binding: "MODELS", bucket_name: models.bucket_name }] }));
  const proxy = await getPlatformProxy<Env>({ configPath, persist: { path: join(projectRoot, ".wrangler", "state", "v3") } }).finally(() => rm(dir, { recursive: true, force: true }));
  try {
    const written: string[] = [];
    let unchanged = 0;
    for (const { key, file } of modelSources()) {
      const bytes = await readFile(file);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const head = await proxy.env.MODELS.head(key);
      if (head && (head.customMetadata?.sha256 === sha256 || !seeded(head))) {
        unchanged++;
        continue;
      }
      await proxy.env.MODELS.put(key, bytes, { customMetadata: { sha256, source: "seed" } });
      written.push(key);
    }
    return { written, unchanged };
  } finally {
    await proxy.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { written, unchanged } = await seedLocalBucket();
  console.log(`seeded local R2: ${written.length} written${written.length ? ` (${written.join(", ")})` : ""}, ${unchanged} unchanged`);
}
