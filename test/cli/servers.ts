/**
 * The `wrangler dev` each file of the "cli" project runs against, one per file so that no file
 * sees another's models, tenants or statistics. test/cli/global-setup.ts starts them in the
 * background when the run begins, so they boot while the workerd projects run; a file waits for
 * its own with devFor().
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { answers, type WranglerDev } from "./wrangler-dev.ts";

/** The client's small body limit, so that its too-large case needs only a small body. */
export const CLIENT_MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Each server's `[vars]` overrides; `pagesOrigin` is the origin of cors-browser's page server.
 * They boot in this order (longest file first, as vitest tends to run them), or as files ask.
 */
export const SERVERS = {
  console: () => ({}),
  eictl: () => ({}),
  client: () => ({ MAX_REQUEST_BYTES: String(CLIENT_MAX_REQUEST_BYTES) }),
  "docs-page": () => ({}),
  "cors-browser": (pagesOrigin: string) => ({ CORS_ALLOWED_ORIGINS: pagesOrigin }),
  // A short read timeout, so that a drip is ended within the test.
  "slow-clients": () => ({ REQUEST_BODY_TIMEOUT_MS: "1000" }),
  "readme-client": () => ({}),
} satisfies Record<string, (pagesOrigin: string) => Record<string, string>>;

export type ServerName = keyof typeof SERVERS;

/** Where global-setup.ts notes a server's URL and state once it answers, or why it did not start. */
export const readyFile = (dir: string, name: ServerName) => join(dir, `${name}.json`);
export const errorFile = (dir: string, name: ServerName) => join(dir, `${name}.error`);
/** Where a file notes that it waits for its server, which then boots next. */
export const wantedFile = (dir: string, name: ServerName) => join(dir, `${name}.wanted`);

declare module "vitest" {
  export interface ProvidedContext {
    /** The directory of global-setup.ts's notes (readyFile, errorFile). */
    wranglerNotes: string;
    /** The port of cors-browser's page server, which global-setup.ts runs. */
    corsPagesPort: number;
  }
}

/** The file's own `wrangler dev`, once it answers; global-setup.ts stops it after the run. */
export async function devFor(name: ServerName): Promise<WranglerDev> {
  const dir = inject("wranglerNotes");
  if (!dir) throw new Error("no wrangler dev: test/cli/global-setup.ts is the cli project's globalSetup");
  writeFileSync(wantedFile(dir, name), "");
  // Up to four minutes: the servers boot one after another, while the workerd projects run.
  for (let i = 0; i < 960; i++) {
    if (existsSync(errorFile(dir, name))) throw new Error(readFileSync(errorFile(dir, name), "utf8"));
    if (existsSync(readyFile(dir, name))) {
      const { url, state } = JSON.parse(readFileSync(readyFile(dir, name), "utf8")) as { url: string; state: string };
      if (await answers(url, 40)) return { url, state, stop: async () => {} };
      throw new Error(`wrangler dev "${name}" at ${url} stopped answering`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev "${name}" did not start`);
}
