/**
 * Seeds the local R2 bucket of `wrangler dev` with the demo repository (scripts/model-sources.ts).
 * Idempotent: an object whose stored sha256 matches the file is left alone, and so is anything an
 * operator wrote through the admin API (a config edited with eictl survives a restart). Run:
 * `npm run seed`.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { getPlatformProxy } from "wrangler";
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
  // Same persistence directory as `wrangler dev` (.wrangler/state), so the Worker sees these objects.
  const proxy = await getPlatformProxy<Env>({ configPath: `${projectRoot}/wrangler.toml`, persist: true });
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
