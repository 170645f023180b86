/**
 * eictl against a real `wrangler dev` (local R2, KV and Durable Objects in a temporary state
 * directory), run as an operator would: `node bin/eictl.js ...` with URL and token from the
 * environment. Runs in Node, not workerd (vitest project "cli").
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { devFor } from "./servers.ts";
import { ADMIN_TOKEN as TOKEN, root, type WranglerDev } from "./wrangler-dev.ts";

const IRIS = join(root, "models/iris/1/model.onnx");
const RETRAINED = join(root, "models/candidates/iris-retrained.onnx");
const VAD = join(root, "node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx");

let dev: WranglerDev;
let state: string;
let url: string;

beforeAll(async () => {
  dev = await devFor("eictl");
  ({ state, url } = dev);
}, 90_000);

/** Runs eictl; resolves with its exit code and output (never rejects on a non-zero exit). */
function eictl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return eictlWith({ EDGE_INFERENCE_URL: url }, ...args);
}

/** Runs eictl in the state directory with the admin token and `env`'s variables. */
function eictlWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { EDGE_INFERENCE_URL: _, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, "bin/eictl.js"), ...args],
      { cwd: state, env: { ...inherited, EDGE_INFERENCE_ADMIN_TOKEN: TOKEN, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("eictl", () => {
  it("pushes versions with a progress bar, and refuses a file onnxruntime cannot load", async () => {
    // --progress: stderr here is not a terminal, where the bar is left out.
    const pushed = await eictl("--json", "--progress", "push", "iris", "1", IRIS);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ model: "iris", version: 1, sha256: sha256(IRIS), created: true });
    expect(pushed.stderr).toContain("100%");
    const second = await eictl("push", "iris", "2", RETRAINED);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`iris v2 published`);
    expect(second.stderr).toBe("");

    const broken = join(state, "broken.onnx");
    writeFileSync(broken, readFileSync(IRIS).subarray(0, 300));
    const refused = await eictl("push", "iris", "3", broken);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("HTTP 400");
    expect(refused.stderr).toContain("onnxruntime cannot load");
    const again = await eictl("push", "iris", "1", RETRAINED);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("HTTP 409");
  });

  it("shows the instance that answers: onnxruntime started by the pushes' validation, its heap, and the memory for request bodies", async () => {
    const shown = await eictl("isolate");
    expect(shown.code, shown.stderr).toBe(0);
    const isolate = JSON.parse(shown.stdout);
    expect(isolate.onnxruntime).toBe("started");
    expect(isolate.wasm_heap_bytes).toBeGreaterThan(0);
    // wrangler.toml's budget within the isolate's 128 MiB less the heap, and a tenant's half of it;
    // nothing in flight but this request, which has no body.
    const capacity = Math.min(48 * 1024 * 1024, 128 * 1024 * 1024 - isolate.wasm_heap_bytes);
    expect(isolate.request_memory).toEqual({
      budget_bytes: 48 * 1024 * 1024,
      isolate_memory_bytes: 128 * 1024 * 1024,
      capacity_bytes: capacity,
      tenant_share_bytes: Math.floor(capacity / 2),
      reserved_bytes: 0,
      waiting: 0,
      refused: 0,
    });
  });

  it("sets labels, splits, default and shadow, each keeping the rest of the config", async () => {
    expect((await eictl("label", "iris", "stable=1", "canary=2")).code).toBe(0);
    expect((await eictl("split", "iris", "1=90", "2=10")).code).toBe(0);
    expect((await eictl("shadow", "iris", "2", "25")).code).toBe(0);
    const config = JSON.parse((await eictl("config", "iris")).stdout).config;
    expect(config).toEqual({ labels: { stable: 1, canary: 2 }, traffic: { "1": 90, "2": 10 }, shadow: { version: 2, percent: 25 } });

    const bad = await eictl("split", "iris", "1=90", "2=20");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("sum to 100");

    const table = await eictl("models");
    expect(table.stdout).toMatch(/iris\s+1,2\s+1:90% 2:10%\s+stable=1 canary=2\s+2 @ 25%/);

    expect((await eictl("default", "iris", "1")).code).toBe(0);
    expect((await eictl("shadow", "iris", "off")).code).toBe(0);
    expect((await eictl("label", "iris", "canary=")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "iris")).stdout).config).toEqual({ default_version: 1, labels: { stable: 1 } });
    const deleted = await eictl("delete", "iris", "2");
    expect(deleted.code, deleted.stderr).toBe(0);
    const model = JSON.parse((await eictl("--json", "model", "iris")).stdout);
    expect(model.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    const shown = (await eictl("model", "iris")).stdout;
    expect(shown).toMatch(new RegExp(`^iris: serves 1 \\(default_version\\)\\nVERSION\\s+SIZE\\s+SHA256\\s+LABELS\\s+WEIGHT\\s+DEFAULT\\s+SHADOW\\s+STATE\\s+UPLOADED\\n1\\s+[0-9.]+ (?:B|KiB)\\s+${sha256(IRIS).slice(0, 12)}\\s+stable\\s+yes\\s`));
  });

  it("sets dynamic batching, with batch axes and shared inputs for a recurrent model", async () => {
    expect((await eictl("push", "vad", "1", VAD)).code).toBe(0);
    const refused = await eictl("batching", "vad", "16", "2");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("'state' has shape [2,-1,128]");
    expect((await eictl("batching", "vad", "16", "2", "state=1", "stateN=1", "sr=shared")).code).toBe(0);
    const axes = { batch_axes: { state: 1, stateN: 1 }, unbatched_inputs: ["sr"] };
    expect(JSON.parse((await eictl("config", "vad")).stdout).config).toEqual({ dynamic_batching: { max_batch_size: 16, max_queue_delay_ms: 2, ...axes } });
    expect((await eictl("batching", "vad", "8", "5")).code).toBe(0); // keeps the axes
    expect(JSON.parse((await eictl("config", "vad")).stdout).config).toEqual({ dynamic_batching: { max_batch_size: 8, max_queue_delay_ms: 5, ...axes } });
    expect((await eictl("batching", "vad", "8", "5", "state")).stderr).toContain("neither tensor=<axis> nor input=shared");
    expect((await eictl("batching", "vad", "off")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "vad")).stdout).config).toEqual({});
    // The most rows a request may carry, then batching within it; above it, refused.
    expect((await eictl("max-batch", "vad", "4")).code).toBe(0);
    expect((await eictl("batching", "vad", "8", "2", "state=1", "stateN=1", "sr=shared")).stderr).toContain("may not exceed the model's max_batch_size");
    expect((await eictl("batching", "vad", "4", "2", "state=1", "stateN=1", "sr=shared")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "vad")).stdout).config).toEqual({ max_batch_size: 4, dynamic_batching: { max_batch_size: 4, max_queue_delay_ms: 2, ...axes } });
    expect((await eictl("batching", "vad", "off")).code).toBe(0);
    expect((await eictl("max-batch", "vad", "off")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "vad")).stdout).config).toEqual({});
  });

  it("sets onnxruntime's session options, which the service checks, and shows the loaded session's", async () => {
    expect((await eictl("push", "opts", "1", IRIS)).code).toBe(0);
    expect((await eictl("session-options", "opts", "disable_prepacking=true", "graph_optimization_level=extended")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "opts")).stdout).config).toEqual({ onnxruntime: { disable_prepacking: true, graph_optimization_level: "extended" } });
    expect((await eictl("session-options", "opts", "enable_mem_pattern=false")).code).toBe(0); // adds to those set
    expect(JSON.parse((await eictl("config", "opts")).stdout).config.onnxruntime).toEqual({ disable_prepacking: true, graph_optimization_level: "extended", enable_mem_pattern: false });
    const wrong = await eictl("session-options", "opts", "graph_optimization_level=fast");
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("onnxruntime.graph_optimization_level");
    expect((await eictl("session-options", "opts", "prepacking")).stderr).toContain("is not <option>=<value>");
    expect((await eictl("session-options", "opts", "off")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "opts")).stdout).config).toEqual({});
  });

  it("publishes an output's class labels, refused and taken back when they do not count its classes, and names :classify's features", async () => {
    expect((await eictl("push", "species", "1", IRIS)).code).toBe(0);
    const two = join(state, "two.txt");
    writeFileSync(two, "setosa\nother\n");
    const refused = await eictl("class-labels", "species", "probabilities", two);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("HTTP 400");
    expect(refused.stderr).toContain("labels file 'two.txt' has 2 labels, but output 'probabilities' of version 1 has 3 classes");
    // Nothing left half-done: no config, and the file it published taken back.
    expect(JSON.parse((await eictl("config", "species")).stdout).config).toEqual({});
    const file = await fetch(`${url}/admin/models/species/labels/two.txt`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(file.status).toBe(404);

    const species = join(state, "species.txt");
    writeFileSync(species, "setosa\nversicolor\nvirginica\n");
    const labelled = await eictl("class-labels", "species", "probabilities", species);
    expect(labelled.code, labelled.stderr).toBe(0);
    expect(labelled.stdout).toContain("species: output probabilities labelled by species.txt (3 labels)");
    expect((await eictl("features", "species", "sepal_length", "sepal_width", "petal_length", "petal_width")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "species")).stdout).config).toEqual({
      classification: { label_files: { probabilities: "species.txt" }, features: ["sepal_length", "sepal_width", "petal_length", "petal_width"] },
    });
    const short = await eictl("features", "species", "sepal_length");
    expect(short.stderr).toContain("classification.features names 1 features, but the input 'features' of version 1 is FP32 [-1,4]");
    expect((await eictl("features", "species", "off")).code).toBe(0);
    expect((await eictl("class-labels", "species", "probabilities", "off")).code).toBe(0);
    expect(JSON.parse((await eictl("config", "species")).stdout).config).toEqual({});
  });

  it("puts tenants and creates, lists and revokes keys; the key it prints works", async () => {
    // Exact admission, so the revocation below is seen by the very next request.
    expect((await eictl("tenant", "put", "acme", "--rpm", "120", "--models", "iris", "--admission", "exact")).code).toBe(0);
    const created = JSON.parse((await eictl("--json", "key", "create", "acme", "--name", "ci")).stdout);
    expect(created.key).toMatch(/^eik_/);
    const infer = await fetch(`${url}/v2/models/iris/infer`, {
      method: "POST",
      headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" },
      body: JSON.stringify({ inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] }),
    });
    expect(infer.status).toBe(200);
    const listed = JSON.parse((await eictl("--json", "key", "list", "acme")).stdout);
    expect(listed.keys).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    const table = (await eictl("key", "list", "acme")).stdout;
    expect(table).toMatch(new RegExp(`^ID\\s+PREFIX\\s+NAME\\s+STATUS\\s+CREATED\\s+EXPIRES\\n${created.id}\\s+${created.prefix}\\s+ci\\s+active\\s`));
    expect(table).not.toContain(created.key);
    const usage = await eictl("usage", "acme");
    expect(usage.stdout).toMatch(new RegExp(`^DATE\\s+ACCEPTED\\s+RATE-LIMITED\\s+OVER-QUOTA\\s+FORBIDDEN\\n${new Date().toISOString().slice(0, 10)}\\s+1\\s+0\\s+0\\s+0$`, "m"));
    const revoked = await eictl("key", "revoke", "acme", created.id);
    expect(revoked.stdout.trim()).toBe(`key ${created.id} of acme revoked`);
    const after = await fetch(`${url}/v2/models/iris`, { headers: { authorization: `Bearer ${created.key}` } });
    expect(after.status).toBe(401);
  });

  it("finds the local server's URL where npm start wrote it", async () => {
    mkdirSync(join(state, ".wrangler"), { recursive: true });
    writeFileSync(join(state, ".wrangler", "dev-url"), `${url}\n`);
    try {
      const listed = await eictlWith({}, "models");
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/^MODEL\s+VERSIONS/);
    } finally {
      rmSync(join(state, ".wrangler", "dev-url"));
    }
  });

  it("says what is wrong: a bad token, an unreachable URL, a bad command", async () => {
    const wrong = await eictl("--token", "nope", "models");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("HTTP 401");
    const nowhere = await eictl("--url", "http://127.0.0.1:9", "models");
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain("cannot reach");
    const unknown = await eictl("frobnicate");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown command");
    expect((await eictl("help")).stdout).toContain("push <model> <version> <file.onnx>");
  });
});
