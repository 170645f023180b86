#!/usr/bin/env node
// @ts-check
/**
 * eictl: the operators' command line for an edge-inference deployment, built on the admin client
 * of @edge-inference/client (no HTTP of its own): publish model versions, set labels, defaults,
 * traffic splits and shadows, manage tenants and keys, list models. Human output by default,
 * `--json` for scripts. Plain JavaScript so it runs on any Node ≥ 20 without a build step of its
 * own. Run `npx eictl help`.
 */
import { AdminClient, InferenceServerError } from "@edge-inference/client";
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { adminToken, deploymentUrl, tokenRefusal } from "./eictl/connection.js";
import { labels, printTable, routing, size, when } from "./eictl/output.js";

const USAGE = `eictl: operate an edge-inference deployment through its admin API

Usage: eictl [--url URL] [--token TOKEN] [--json] <command> [arguments]

Models
  models                                   list models, their versions and routing
  model <model>                            versions (size, sha256, labels, loaded state), routing
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
  class-labels <model> <output> <file.txt> publish a labels file (one label per line, line i naming class
                                           i) and name it for an output, whose classes it must count;
                                           'class-labels <model> <output> off' stops labelling it
  features <model> <feature> ... [--scores OUTPUT]
                                           name the features of the model's one input, in order, so
                                           TF Serving's :classify takes examples of them; --scores names
                                           the output it answers with; 'features <model> off' stops
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
  usage <tenant>                           requests per UTC day, last 30 days
  key create <tenant> [--name NAME] [--expires-in SECONDS]
  key list <tenant>
  key revoke <tenant> <key-id>

Output
  --json          the API's JSON, for scripts (lists and confirmations are human text otherwise)
  --progress      a progress bar for push even when stderr is not a terminal

Connection
  --url URL       the deployment (env EDGE_INFERENCE_URL; else the URL npm start wrote to
                  ./.wrangler/dev-url; else http://127.0.0.1:8787). The admin
                  token goes only over https, or plain http to this machine.
  --token TOKEN   the admin token (env EDGE_INFERENCE_ADMIN_TOKEN; else ADMIN_TOKEN from ./.dev.vars)
`;

class CliError extends Error {}

/** @param {string} message @returns {never} */
const fail = (message) => {
  throw new CliError(message);
};

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    token: { type: "string" },
    json: { type: "boolean", default: false },
    progress: { type: "boolean", default: false },
    file: { type: "string" },
    rpm: { type: "string" },
    burst: { type: "string" },
    quota: { type: "string" },
    models: { type: "string" },
    admission: { type: "string" },
    name: { type: "string" },
    scores: { type: "string" },
    "expires-in": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

const baseUrl = deploymentUrl(flags.url, process.cwd());

/** The admin client, made on first use (help needs no token). */
let adminClient;
/** @returns {AdminClient} */
const admin = () => (adminClient ??= new AdminClient({ url: baseUrl, token: checkedToken() }));

/** The admin token, once it is known to go only over https or to this machine. */
function checkedToken() {
  const refusal = tokenRefusal(baseUrl);
  if (refusal) fail(refusal);
  return adminToken(flags.token, process.cwd()) ?? fail("no admin token: pass --token, or set EDGE_INFERENCE_ADMIN_TOKEN");
}

/**
 * What a command did: the API's answer (printed as JSON with --json) and its human form.
 * @typedef {{ json: unknown, human: () => void }} Outcome
 */

/** @param {unknown} json @param {string} line @returns {Outcome} */
const said = (json, line) => ({ json, human: () => console.log(line) });
/** A document (a config, the isolate) prints as JSON either way. @param {unknown} json @returns {Outcome} */
const doc = (json) => ({ json, human: () => console.log(JSON.stringify(json, null, 2)) });

/**
 * Uploads a file as a model version, streamed, with a progress bar on a terminal.
 * @param {string} model
 * @param {string} version
 * @param {string} file
 */
async function push(model, version, file) {
  if (!existsSync(file)) fail(`no such file: ${file}`);
  const total = statSync(file).size;
  const bar =
    process.stderr.isTTY || flags.progress
      ? new cliProgress.SingleBar(
          { format: `push ${model} v${version} [{bar}] {percentage}% | {value}/{total} bytes | {eta_formatted}`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(total, 0);
  const stream = /** @type {ReadableStream<Uint8Array>} */ (Readable.toWeb(createReadStream(file, { highWaterMark: 256 * 1024 })));
  try {
    return await admin().publishVersion(model, version, stream, { size: total, onProgress: (sent) => bar?.update(sent) });
  } finally {
    bar?.stop();
  }
}

/**
 * `name=value` pairs.
 * @param {string[]} pairs
 * @param {string} what
 * @returns {[string, string][]}
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

/**
 * Changes part of a model's config (read, edit, write with If-Match, again if it changed meanwhile).
 * @param {string} model
 * @param {(config: Record<string, any>) => void} edit
 * @param {string} done what the change did, for the confirmation
 * @returns {Promise<Outcome>}
 */
async function editConfig(model, edit, done) {
  return configChanged(model, admin().updateConfig(model, edit), done);
}

/**
 * @param {string} model
 * @param {Promise<unknown>} written one of the AdminClient's config edits
 * @param {string} done
 * @returns {Promise<Outcome>}
 */
async function configChanged(model, written, done) {
  return said(await written, `${model}: ${done}`);
}

/** @param {string[]} args @returns {Promise<Outcome | undefined>} */
async function run(args) {
  const [command, ...rest] = args;
  const need = (/** @type {number} */ n, /** @type {string} */ usage) => {
    if (rest.length < n) fail(`usage: eictl ${usage}`);
  };
  /** The i-th argument after the command (checked present by `need` first). */
  const arg = (/** @type {number} */ i) => rest[i] ?? fail(`missing argument ${i + 1} of '${command}'; run 'eictl help'`);
  switch (command) {
    case undefined:
    case "help":
      process.stdout.write(USAGE);
      return undefined;
    case "models": {
      const models = await admin().models();
      return {
        json: { models },
        human: () =>
          printTable(
            ["MODEL", "VERSIONS", "SERVES", "LABELS", "SHADOW"],
            models.map((m) => [m.name, m.versions.join(","), routing(m.routing), labels(m.labels), m.shadow ? `${m.shadow.version} @ ${m.shadow.percent}%` : ""]),
          ),
      };
    }
    case "model": {
      need(1, "model <model>");
      const model = await admin().model(arg(0));
      return {
        json: model,
        human: () => {
          console.log(`${model.name}: serves ${routing(model.routing)}${model.config_error ? `; config error: ${model.config_error}` : ""}`);
          printTable(
            ["VERSION", "SIZE", "SHA256", "LABELS", "WEIGHT", "DEFAULT", "SHADOW", "STATE", "UPLOADED"],
            model.versions.map((v) => [v.version, size(v.size), (v.sha256 ?? "").slice(0, 12), v.labels.join(" "), v.traffic_weight ?? "", v.default ? "yes" : "", v.shadow ? "yes" : "", v.isolate_state, when(v.uploaded)]),
          );
        },
      };
    }
    case "push": {
      need(3, "push <model> <version> <file.onnx>");
      const p = await push(arg(0), arg(1), arg(2));
      const what = p.created ? "published" : "already published, with the same bytes:";
      return said(p, `${p.model} v${p.version} ${what} ${size(p.size)}, sha256 ${p.sha256}`);
    }
    case "delete": {
      need(2, "delete <model> <version>");
      const d = await admin().deleteVersion(arg(0), arg(1));
      return said(d, `${d.model} v${d.version} deleted`);
    }
    case "config": {
      need(1, "config <model> [--file config.json]");
      if (!flags.file) return doc(await admin().getConfig(arg(0)));
      const written = await admin().putConfig(arg(0), JSON.parse(readFileSync(flags.file, "utf8")));
      return said(written, `${arg(0)}: config written from ${flags.file}`);
    }
    case "default":
      need(2, "default <model> <version>");
      return configChanged(arg(0), admin().setDefault(arg(0), int(arg(1), "version")), `unlabelled traffic goes to version ${arg(1)}`);
    case "split": {
      need(2, "split <model> <version>=<weight> ... | split <model> off");
      const off = arg(1) === "off";
      const traffic = off ? null : Object.fromEntries(assignments(rest.slice(1), "version=weight").map(([v, w]) => [v, int(w, `weight of ${v}`)]));
      return configChanged(arg(0), admin().setSplit(arg(0), traffic), off ? "traffic split cleared" : `traffic split ${rest.slice(1).join(" ")}`);
    }
    case "label": {
      need(2, "label <model> <label>=<version> ...");
      const pairs = assignments(rest.slice(1), "label=version");
      const labelled = Object.fromEntries(pairs.map(([label, version]) => [label, version === "" ? null : int(version, `version of label ${label}`)]));
      return configChanged(arg(0), admin().setLabels(arg(0), labelled), `labels ${pairs.map(([l, v]) => (v === "" ? `${l} removed` : `${l}=${v}`)).join(", ")}`);
    }
    case "shadow": {
      need(2, "shadow <model> <version> <percent> | shadow <model> off");
      const off = arg(1) === "off";
      if (!off) need(3, "shadow <model> <version> <percent>");
      const shadow = off ? null : { version: int(arg(1), "version"), percent: Number(arg(2)) };
      return configChanged(arg(0), admin().setShadow(arg(0), shadow), shadow ? `${shadow.percent}% of traffic mirrored to version ${shadow.version}` : "shadow stopped");
    }
    case "batching": {
      need(2, "batching <model> <max_batch_size> <max_queue_delay_ms> | batching <model> off");
      const off = arg(1) === "off";
      if (!off) need(3, "batching <model> <max_batch_size> <max_queue_delay_ms> [tensor=axis|input=shared ...]");
      const extra = off ? [] : rest.slice(3).map((a) => /^([^=]+)=(shared|[0-9]+)$/.exec(a) ?? fail(`'${a}' is neither tensor=<axis> nor input=shared`));
      return editConfig(
        arg(0),
        (c) => {
          if (off) return void delete c.dynamic_batching;
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
        },
        off ? "dynamic batching stopped" : `batches of up to ${arg(1)} requests, waiting at most ${arg(2)} ms`,
      );
    }
    case "max-batch": {
      need(2, "max-batch <model> <rows> | max-batch <model> off");
      const off = arg(1) === "off";
      const rows = off ? undefined : int(arg(1), "rows");
      return editConfig(
        arg(0),
        (c) => {
          if (rows === undefined) delete c.max_batch_size;
          else c.max_batch_size = rows;
        },
        off ? "no limit on a request's rows" : `requests of more than ${rows} rows are refused`,
      );
    }
    case "class-labels": {
      need(3, "class-labels <model> <output> <file.txt> | class-labels <model> <output> off");
      const [model, output, file] = [arg(0), arg(1), arg(2)];
      if (file === "off") return configChanged(model, admin().setLabelFile(model, output, null), `output ${output} no longer labelled`);
      if (!existsSync(file)) fail(`no such file: ${file}`);
      const name = basename(file);
      const published = await admin().publishLabels(model, name, readFileSync(file));
      try {
        const config = await admin().setLabelFile(model, output, name);
        return said({ labels: published, config }, `${model}: output ${output} labelled by ${name} (${published.labels} labels)`);
      } catch (e) {
        // The config refused it: take back a file this command published, so nothing is left half-done.
        if (published.created) await admin().deleteLabels(model, name).catch(() => undefined);
        throw e;
      }
    }
    case "features": {
      need(2, "features <model> <feature> ... [--scores OUTPUT] | features <model> off");
      const off = arg(1) === "off";
      const features = off ? null : rest.slice(1);
      return configChanged(arg(0), admin().setFeatures(arg(0), features, flags.scores), off ? ":classify off" : `:classify takes examples of ${rest.slice(1).join(", ")}`);
    }
    case "session-options": {
      need(2, "session-options <model> <option>=<value> ... | session-options <model> off");
      const off = arg(1) === "off";
      const set = off ? [] : rest.slice(1).map((a) => /^([a-z_]+)=(.+)$/.exec(a) ?? fail(`'${a}' is not <option>=<value>`));
      return editConfig(
        arg(0),
        (c) => {
          if (off) return void delete c.onnxruntime;
          // true and false are booleans; anything else (a graph level) a string. The service checks them.
          c.onnxruntime = { ...(c.onnxruntime ?? {}), ...Object.fromEntries(set.map((x) => [x[1], x[2] === "true" ? true : x[2] === "false" ? false : x[2]])) };
        },
        off ? "onnxruntime's default session options" : `session options ${rest.slice(1).join(" ")}`,
      );
    }
    case "isolate":
      return doc(await admin().isolate());
    case "tenant": {
      need(2, "tenant put|get <tenant>");
      const [sub, tenant] = [arg(0), arg(1)];
      if (sub === "get") return doc(await admin().getTenant(tenant));
      if (sub !== "put") return fail("usage: eictl tenant put|get <tenant>");
      /** @type {import("@edge-inference/client").TenantPolicy} */
      const policy = { requests_per_minute: int(flags.rpm ?? fail("tenant put needs --rpm (requests per minute)"), "--rpm") };
      if (flags.burst) policy.burst = int(flags.burst, "--burst");
      if (flags.quota) policy.daily_quota = int(flags.quota, "--quota");
      if (flags.admission) policy.admission = /** @type {"leased" | "exact"} */ (flags.admission);
      if (flags.models) policy.models = flags.models === "*" ? "*" : flags.models.split(",").map((s) => s.trim()).filter(Boolean);
      const t = await admin().putTenant(tenant, policy);
      const p = t.policy;
      return said(t, `tenant ${t.tenant}: ${p.requests_per_minute} requests/minute, burst ${p.burst}, daily quota ${p.daily_quota ?? "none"}, models ${p.models === "*" ? "all" : p.models.join(",")}, ${p.admission} admission`);
    }
    case "usage": {
      need(1, "usage <tenant>");
      const days = await admin().usage(arg(0));
      return {
        json: { tenant: arg(0), days },
        human: () => printTable(["DATE", "ACCEPTED", "RATE-LIMITED", "OVER-QUOTA", "FORBIDDEN"], days.map((d) => [d.date, d.accepted, d.rejected_rate_limit, d.rejected_quota, d.rejected_forbidden])),
      };
    }
    case "key": {
      need(2, "key create|list|revoke <tenant>");
      const [sub, tenant, id] = [arg(0), arg(1), rest[2]];
      if (sub === "list") {
        const keys = await admin().listKeys(tenant);
        return {
          json: { tenant, keys },
          human: () => printTable(["ID", "PREFIX", "NAME", "STATUS", "CREATED", "EXPIRES"], keys.map((k) => [k.id, k.prefix, k.name ?? "", k.status, when(k.created_at), when(k.expires_at)])),
        };
      }
      if (sub === "revoke") {
        const key = await admin().revokeKey(tenant, id ?? fail("usage: eictl key revoke <tenant> <key-id>"));
        return said(key, `key ${key.id} of ${tenant} revoked`);
      }
      if (sub !== "create") return fail("usage: eictl key create|list|revoke <tenant>");
      /** @type {{ name?: string, expiresInSeconds?: number }} */
      const request = {};
      if (flags.name) request.name = flags.name;
      if (flags["expires-in"]) request.expiresInSeconds = int(flags["expires-in"], "--expires-in");
      const created = await admin().createKey(tenant, request);
      return {
        json: created,
        human: () => {
          console.log(`key ${created.id} for ${tenant}${created.expires_at ? `, expires ${when(created.expires_at)}` : ""}:\n${created.key}`);
          process.stderr.write("The key is shown once; store it now.\n");
        },
      };
    }
    default:
      return fail(`unknown command '${command}'; run 'eictl help'`);
  }
}

/** The message for an error eictl expects (the server's, a network failure, a bad argument), else undefined. @param {unknown} e */
function message(e) {
  if (e instanceof InferenceServerError) return `HTTP ${e.status}${e.code ? ` ${e.code}` : ""}: ${e.message}`;
  if (e instanceof CliError || e instanceof SyntaxError) return e.message;
  // fetch's network failures are TypeErrors whose cause says what went wrong (ECONNREFUSED, ...).
  if (e instanceof TypeError && e.message === "fetch failed") return `cannot reach ${baseUrl}: ${e.cause instanceof Error ? e.cause.message : e.message}`;
  return undefined;
}

if (flags.help) {
  process.stdout.write(USAGE);
} else {
  try {
    const outcome = await run(positionals);
    if (outcome && flags.json) console.log(JSON.stringify(outcome.json, null, 2));
    else outcome?.human();
  } catch (e) {
    const text = message(e);
    if (text === undefined) throw e;
    console.error(`eictl: ${text}`);
    process.exitCode = 1;
  }
}
