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

/**
 * Why the admin token must not be sent to `url`, or null when it may: over https anywhere, over
 * plain http only to this machine (localhost, 127.0.0.0/8, ::1), where nobody can read it on the way.
 * @param {string} url
 * @returns {string | null}
 */
export function tokenRefusal(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return `'${url}' is not a URL: pass --url https://your-deployment`;
  }
  if (parsed.protocol === "https:") return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (parsed.protocol === "http:" && loopback) return null;
  const why = parsed.protocol === "http:" ? "plain http would expose it on the network" : `${parsed.protocol} is not https`;
  return `refusing to send the admin token to ${url}: ${why}; use https:// (plain http only for a server on this machine: localhost, 127.0.0.1 or ::1)`;
}
