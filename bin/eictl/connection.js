// @ts-check
/**
 * Where eictl finds the deployment and its admin token: flags, then the environment, then what
 * `npm start` wrote in the working directory (.wrangler/dev-url, .dev.vars), so a local server on
 * a non-default PORT needs no flags.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The file `npm start` writes its URL to (scripts/dev.ts). */
export const DEV_URL_FILE = join(".wrangler", "dev-url");
const DEFAULT_URL = "http://127.0.0.1:8787";

/**
 * @param {string | undefined} flag
 * @param {string} cwd
 */
export function deploymentUrl(flag, cwd) {
  const file = join(cwd, DEV_URL_FILE);
  const written = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  return (flag ?? process.env.EDGE_INFERENCE_URL ?? (written || DEFAULT_URL)).replace(/\/+$/, "");
}

/**
 * The admin token, or undefined when none is given or written.
 * @param {string | undefined} flag
 * @param {string} cwd
 */
export function adminToken(flag, cwd) {
  if (flag) return flag;
  if (process.env.EDGE_INFERENCE_ADMIN_TOKEN) return process.env.EDGE_INFERENCE_ADMIN_TOKEN;
  const devVars = join(cwd, ".dev.vars");
  if (!existsSync(devVars)) return undefined;
  return /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(devVars, "utf8"))?.[1];
}
