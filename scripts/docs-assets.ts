/**
 * Copies Swagger UI's files from node_modules (swagger-ui-dist) into public/docs/vendor/, where
 * Workers Static Assets serve them at /docs (the copy is gitignored). `npm run build` and
 * `npm start` run it, so a fresh clone's /docs works offline.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "./model-sources.ts";

const FILES = ["swagger-ui-bundle.js", "swagger-ui.css"];

function same(a: string, b: string): boolean {
  return existsSync(b) && readFileSync(a).equals(readFileSync(b));
}

/** Copies the files; returns where they went. */
export function copyDocsAssets(): string {
  const from = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const to = join(projectRoot, "public", "docs", "vendor");
  mkdirSync(to, { recursive: true });
  // An unchanged file is left alone: a rewrite would make every running `wrangler dev` reload.
  for (const file of FILES) if (!same(join(from, file), join(to, file))) copyFileSync(join(from, file), join(to, file));
  return to;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`[docs] Swagger UI copied to ${copyDocsAssets()}`);
