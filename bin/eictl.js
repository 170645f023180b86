#!/usr/bin/env node
// @ts-check
/**
 * eictl: the operators' command line for an edge-inference deployment. It talks to the admin API
 * of any deployment (`npm start`'s included): publish model versions, set labels, defaults,
 * traffic splits and shadows, manage tenants and keys, list models. Plain JavaScript so it runs
 * on any Node ≥ 20 without a build step. Run `npx eictl help`.
 */
import { readFileSync, existsSync, statSync, createReadStream } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";

const USAGE = `eictl: operate an edge-inference deployment through its admin API

Usage: eictl [--url URL] [--token TOKEN] [--json] <command> [arguments]

Models
  models                                   list models, their versions and routing
  model <model>                            versions (size, sha256, signature), routing, loaded state, shadow figures
  push <model> <version> <file.onnx>       publish a version (validated by onnxruntime before it is stored)
  delete <model> <version>                 delete a version nothing routes to
  config <model> [--file config.json]      print the config, or replace it with a file's
  default <model> <version>                send unlabelled traffic to one version (clears a split)
  split <model> <version>=<weight> ...     split unlabelled traffic (weights sum to 100); 'split <model> off' clears it
  label <model> <label>=<version> ...      set labels ('<label>=' removes one)
  shadow <model> <version> <percent>       mirror a share of traffic to a version; 'shadow <model> off' stops
  batching <model> <max_batch> <delay_ms> [tensor=axis|input=shared ...]
                                           join concurrent requests into one run; 'tensor=1' batches that
                                           tensor along dimension 1, 'input=shared' makes the batch share
                                           an input (kept from the config if none given); 'off' stops
  max-batch <model> <rows>                 refuse requests carrying more rows than this (max_batch_size),
                                           the guard for onnxruntime's heap; 'max-batch <model> off' lifts it
  session-options <model> <option>=<value> ...
                                           onnxruntime's session options for the model's sessions:
                                           graph_optimization_level=disabled|basic|extended|all,
                                           enable_mem_pattern, enable_cpu_mem_arena, disable_prepacking
                                           =true|false; 'session-options <model> off' restores the defaults
  isolate                                  the instance that answers: onnxruntime's state and heap (of its
                                           128 MB), loaded sessions, the runs that grew the heap, and the
                                           request bodies in flight against REQUEST_MEMORY_BUDGET_BYTES

Tenants and keys
  tenant put <tenant> --rpm N [--burst N] [--quota N] [--models a,b] [--admission leased|exact]
  tenant get <tenant>
  usage <tenant>
  key create <tenant> [--name NAME] [--expires-in SECONDS]
  key list <tenant>
  key revoke <tenant> <key-id>

Connection
  --url URL       the deployment (env EDGE_INFERENCE_URL; default http://127.0.0.1:8787, npm start's)
  --token TOKEN   the admin token (env EDGE_INFERENCE_ADMIN_TOKEN; else ADMIN_TOKEN from ./.dev.vars)
`;

class CliError extends Error {}

/** @param {string} message */
const fail = (message) => {
  throw new CliError(message);
};

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    token: { type: "string" },
    json: { type: "boolean", default: false },
    file: { type: "string" },
    rpm: { type: "string" },
    burst: { type: "string" },
    quota: { type: "string" },
    models: { type: "string" },
    admission: { type: "string" },
    name: { type: "string" },
    "expires-in": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

const baseUrl = (flags.url ?? process.env.EDGE_INFERENCE_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");

/** The admin token: flag, environment, or the local .dev.vars that `npm start` writes. */
function adminToken() {
  if (flags.token) return flags.token;
  if (process.env.EDGE_INFERENCE_ADMIN_TOKEN) return process.env.EDGE_INFERENCE_ADMIN_TOKEN;
  const devVars = join(process.cwd(), ".dev.vars");
  if (existsSync(devVars)) {
    const found = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(devVars, "utf8"))?.[1];
    if (found) return found;
  }
  return fail("no admin token: pass --token, or set EDGE_INFERENCE_ADMIN_TOKEN");
}

/**
 * Calls the admin API and returns the parsed JSON body; an error response becomes a CliError
 * carrying the server's message.
 * @param {string} method
 * @param {string} path under /admin
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 * @returns {Promise<any>}
 */
async function api(method, path, body, headers = {}) {
  let res;
  try {
    res = await fetch(`${baseUrl}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken()}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return fail(`cannot reach ${baseUrl}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : e}`);
  }
  return parseResponse(res.status, await res.text());
}

/**
 * @param {number} status
 * @param {string} text
 */
function parseResponse(status, text) {
  /** @type {any} */
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { error: text.slice(0, 500) };
  }
  if (status >= 400) fail(`HTTP ${status}${parsed?.code ? ` ${parsed.code}` : ""}: ${parsed?.error ?? text}`);
  return parsed;
}

/**
 * Uploads a file as a model version, streaming it with a progress bar.
 * @param {string} model
 * @param {string} version
 * @param {string} file
 */
function push(model, version, file) {
  if (!existsSync(file)) fail(`no such file: ${file}`);
  const size = statSync(file).size;
  const url = new URL(`${baseUrl}/admin/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`);
  const token = adminToken();
  const bar = new cliProgress.SingleBar(
    { format: `push ${model} v${version} [{bar}] {percentage}% | {value}/{total} bytes | {eta_formatted}`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0);
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", "content-length": String(size) },
    });
    let sent = 0;
    const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
    stream.on("data", (chunk) => {
      const ok = req.write(chunk, () => {
        sent += chunk.length;
        bar.update(sent);
      });
      if (!ok) {
        stream.pause();
        req.once("drain", () => stream.resume());
      }
    });
    stream.on("end", () => req.end());
    stream.on("error", reject);
    req.on("error", (e) => {
      bar.stop();
      reject(new CliError(`cannot reach ${baseUrl}: ${e.message}`));
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        bar.update(sent);
        bar.stop();
        try {
          resolve(parseResponse(res.statusCode ?? 0, text));
        } catch (e) {
          reject(e);
        }
      });
    });
  });
}

/**
 * Changes part of a model's config: reads it with its etag, edits, writes with If-Match so a
 * concurrent change is refused rather than lost.
 * @param {string} model
 * @param {(config: Record<string, any>) => void} edit
 */
async function editConfig(model, edit) {
  const current = await api("GET", `/models/${encodeURIComponent(model)}/config`);
  const config = structuredClone(current.config ?? {});
  edit(config);
  const headers = current.etag ? { "if-match": `"${current.etag}"` } : {};
  return api("PUT", `/models/${encodeURIComponent(model)}/config`, config, /** @type {Record<string,string>} */ (headers));
}

/**
 * `name=value` pairs.
 * @param {string[]} pairs
 * @param {string} what
 */
function assignments(pairs, what) {
  if (pairs.length === 0) fail(`give at least one ${what}`);
  return pairs.map((p) => {
    const i = p.indexOf("=");
    if (i <= 0) fail(`'${p}' is not ${what}`);
    return /** @type {[string, string]} */ ([p.slice(0, i), p.slice(i + 1)]);
  });
}

/** @param {string} raw @param {string} what */
function int(raw, what) {
  if (!/^-?[0-9]+$/.test(raw)) fail(`${what} must be an integer, not '${raw}'`);
  return Number(raw);
}

/** @param {any} body */
function printModels(body) {
  const rows = body.models.map((/** @type {any} */ m) => [
    m.name,
    m.versions.join(","),
    m.routing.kind === "traffic_split" ? Object.entries(m.routing.traffic).map(([v, w]) => `${v}:${w}%`).join(" ") : `${m.routing.version} (${m.routing.kind})`,
    Object.entries(m.labels).map(([l, v]) => `${l}=${v}`).join(" "),
    m.shadow ? `${m.shadow.version} @ ${m.shadow.percent}%` : "",
  ]);
  const header = ["MODEL", "VERSIONS", "SERVES", "LABELS", "SHADOW"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((/** @type {string[]} */ r) => String(r[i]).length)));
  for (const r of [header, ...rows]) console.log(r.map((/** @type {string} */ c, /** @type {number} */ i) => String(c).padEnd(widths[i] ?? 0)).join("  ").trimEnd());
}

/** @param {string[]} args */
async function run(args) {
  const [command, ...rest] = args;
  const need = (/** @type {number} */ n, /** @type {string} */ usage) => {
    if (rest.length < n) fail(`usage: eictl ${usage}`);
  };
  const m = (/** @type {string} */ name) => encodeURIComponent(name);
  /** The i-th argument after the command (checked present by `need` first). */
  const arg = (/** @type {number} */ i) => rest[i] ?? fail(`missing argument ${i + 1} of '${command}'; run 'eictl help'`);
  switch (command) {
    case undefined:
    case "help":
      process.stdout.write(USAGE);
      return undefined;
    case "models": {
      const body = await api("GET", "/models");
      if (flags.json) return body;
      printModels(body);
      return undefined;
    }
    case "model":
      need(1, "model <model>");
      return api("GET", `/models/${m(arg(0))}`);
    case "push":
      need(3, "push <model> <version> <file.onnx>");
      return push(arg(0), arg(1), arg(2));
    case "delete":
      need(2, "delete <model> <version>");
      return api("DELETE", `/models/${m(arg(0))}/versions/${m(arg(1))}`);
    case "config":
      need(1, "config <model> [--file config.json]");
      if (!flags.file) return api("GET", `/models/${m(arg(0))}/config`);
      return api("PUT", `/models/${m(arg(0))}/config`, JSON.parse(readFileSync(flags.file, "utf8")));
    case "default":
      need(2, "default <model> <version>");
      return editConfig(arg(0), (c) => {
        c.default_version = int(arg(1), "version");
        delete c.traffic;
      });
    case "split":
      need(2, "split <model> <version>=<weight> ... | split <model> off");
      return editConfig(arg(0), (c) => {
        if (arg(1) === "off") delete c.traffic;
        else c.traffic = Object.fromEntries(assignments(rest.slice(1), "version=weight").map(([v, w]) => [v, int(w, `weight of ${v}`)]));
      });
    case "label":
      need(2, "label <model> <label>=<version> ...");
      return editConfig(arg(0), (c) => {
        c.labels ??= {};
        for (const [label, version] of assignments(rest.slice(1), "label=version")) {
          if (version === "") delete c.labels[label];
          else c.labels[label] = int(version, `version of label ${label}`);
        }
        if (Object.keys(c.labels).length === 0) delete c.labels;
      });
    case "shadow":
      need(2, "shadow <model> <version> <percent> | shadow <model> off");
      return editConfig(arg(0), (c) => {
        if (arg(1) === "off") delete c.shadow;
        else {
          need(3, "shadow <model> <version> <percent>");
          c.shadow = { version: int(arg(1), "version"), percent: Number(arg(2)) };
        }
      });
    case "batching":
      need(2, "batching <model> <max_batch_size> <max_queue_delay_ms> | batching <model> off");
      return editConfig(arg(0), (c) => {
        if (arg(1) === "off") delete c.dynamic_batching;
        else {
          need(3, "batching <model> <max_batch_size> <max_queue_delay_ms> [tensor=axis|input=shared ...]");
          const extra = rest.slice(3).map((a) => /^([^=]+)=(shared|[0-9]+)$/.exec(a) ?? fail(`'${a}' is neither tensor=<axis> nor input=shared`));
          const previous = c.dynamic_batching ?? {};
          const axes = Object.fromEntries(extra.filter((x) => x[2] !== "shared").map((x) => [x[1], Number(x[2])]));
          const shared = extra.filter((x) => x[2] === "shared").map((x) => x[1]);
          c.dynamic_batching = {
            max_batch_size: int(arg(1), "max_batch_size"),
            max_queue_delay_ms: Number(arg(2)),
            ...(extra.length ? {} : { batch_axes: previous.batch_axes, unbatched_inputs: previous.unbatched_inputs }),
            ...(Object.keys(axes).length ? { batch_axes: axes } : {}),
            ...(shared.length ? { unbatched_inputs: shared } : {}),
          };
        }
      });
    case "max-batch":
      need(2, "max-batch <model> <rows> | max-batch <model> off");
      return editConfig(arg(0), (c) => {
        if (arg(1) === "off") delete c.max_batch_size;
        else c.max_batch_size = int(arg(1), "rows");
      });
    case "session-options":
      need(2, "session-options <model> <option>=<value> ... | session-options <model> off");
      return editConfig(arg(0), (c) => {
        if (arg(1) === "off") delete c.onnxruntime;
        else {
          const set = rest.slice(1).map((a) => /^([a-z_]+)=(.+)$/.exec(a) ?? fail(`'${a}' is not <option>=<value>`));
          // true and false are booleans; anything else (a graph level) a string. The service checks them.
          c.onnxruntime = { ...(c.onnxruntime ?? {}), ...Object.fromEntries(set.map((x) => [x[1], x[2] === "true" ? true : x[2] === "false" ? false : x[2]])) };
        }
      });
    case "isolate":
      return api("GET", "/isolate");
    case "tenant": {
      need(2, "tenant put|get <tenant>");
      const [sub, tenant] = [arg(0), arg(1)];
      if (sub === "get") return api("GET", `/tenants/${m(tenant)}`);
      if (sub !== "put") return fail("usage: eictl tenant put|get <tenant>");
      if (!flags.rpm) fail("tenant put needs --rpm (requests per minute)");
      /** @type {Record<string, unknown>} */
      const policy = { requests_per_minute: int(flags.rpm ?? "", "--rpm") };
      if (flags.burst) policy.burst = int(flags.burst, "--burst");
      if (flags.quota) policy.daily_quota = int(flags.quota, "--quota");
      if (flags.admission) policy.admission = flags.admission;
      if (flags.models) policy.models = flags.models === "*" ? "*" : flags.models.split(",").map((s) => s.trim()).filter(Boolean);
      return api("PUT", `/tenants/${m(tenant)}`, policy);
    }
    case "usage":
      need(1, "usage <tenant>");
      return api("GET", `/tenants/${m(arg(0))}/usage`);
    case "key": {
      need(2, "key create|list|revoke <tenant>");
      const [sub, tenant, id] = [arg(0), arg(1), rest[2]];
      if (sub === "list") return api("GET", `/tenants/${m(tenant)}/keys`);
      if (sub === "revoke") {
        if (!id) fail("usage: eictl key revoke <tenant> <key-id>");
        return api("DELETE", `/tenants/${m(tenant)}/keys/${m(id ?? "")}`);
      }
      if (sub !== "create") return fail("usage: eictl key create|list|revoke <tenant>");
      /** @type {Record<string, unknown>} */
      const request = {};
      if (flags.name) request.name = flags.name;
      if (flags["expires-in"]) request.expires_in_seconds = int(flags["expires-in"], "--expires-in");
      const created = await api("POST", `/tenants/${m(tenant)}/keys`, request);
      if (!flags.json) process.stderr.write("The key is shown once; store it now.\n");
      return created;
    }
    default:
      return fail(`unknown command '${command}'; run 'eictl help'`);
  }
}

if (flags.help) {
  process.stdout.write(USAGE);
} else {
  try {
    const result = await run(positionals);
    if (result !== undefined) console.log(JSON.stringify(result, null, 2));
  } catch (e) {
    if (!(e instanceof CliError) && !(e instanceof SyntaxError)) throw e;
    console.error(`eictl: ${e.message}`);
    process.exitCode = 1;
  }
}
