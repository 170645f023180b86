/**
 * @module scripts/wrangler-cli: what the project's scripts share about wrangler: where its CLI is
 * (run with this Node, which the `node` devDependency makes new enough), and the admin token
 * format the scripts generate for a Worker that has none.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** wrangler's CLI entry, run as `node <wranglerBin> ...`. */
export const wranglerBin = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");

/** A new admin token: `eia_` and 48 hex characters (192 random bits). */
export const newAdminToken = (): string => `eia_${randomBytes(24).toString("hex")}`;
