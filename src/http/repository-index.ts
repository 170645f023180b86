/**
 * @module http/repository-index: Triton's model repository extension, read-only for tenants.
 * POST /v2/repository/index lists the versions of the models the caller's tenant may call; a
 * tenant never learns of other models. Load and unload stay with the admin API.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { ServingError } from "../errors";
import { readJsonAs } from "./body";

type C = Context<AppEnv>;

/** Triton's `$repository_index_request`. */
export const RepositoryIndexRequest = z
  .object({ ready: z.boolean().optional().describe("true: list only the versions ready to serve") })
  .strict()
  .meta({ id: "repository_index_request" });

/** One row of Triton's `$repository_index_response`. */
export const RepositoryIndexEntry = z.object({
  name: z.string(),
  version: z.string(),
  state: z.enum(["READY", "UNAVAILABLE"]),
  reason: z.string(),
}).meta({ id: "repository_index_entry" });
export type RepositoryIndexEntry = z.infer<typeof RepositoryIndexEntry>;

const request = (c: C) => readJsonAs(c, RepositoryIndexRequest, "repository index request", true);

/** The models the caller's tenant may call: "*" or a list (from its policy, in its own object). */
async function allowedModels(c: C): Promise<"*" | readonly string[]> {
  const caller = c.get("caller");
  if (!caller) throw new ServingError("internal", "repository index without an authenticated caller");
  const view = await c.env.TENANTS.get(c.env.TENANTS.idFromName(caller.tenant)).getTenant();
  // The rate limiter admitted the key a moment ago, so its tenant exists; answer as for a gone key.
  if (!view) throw new ServingError("unauthenticated", "unknown API key");
  return view.policy.models;
}

/**
 * Every published version is served on demand, so it is READY unless its load failed in this
 * isolate or the model's config is broken (UNAVAILABLE, with the reason).
 */
export async function repositoryIndex(c: C) {
  const { ready } = await request(c);
  const allowed = await allowedModels(c);
  const service = c.get("service");
  const names = allowed === "*" ? await service.models.models() : [...allowed].sort();
  const rows: RepositoryIndexEntry[] = [];
  for (const name of names) {
    const snapshot = await service.snapshot(name).catch((e: unknown) => {
      if (e instanceof ServingError && e.code === "not_found") return null; // listed in the policy, not published
      throw e;
    });
    if (!snapshot) continue;
    for (const entry of snapshot.versions) {
      const failed = service.loadState({ snapshot, entry, routed: false });
      const reason = snapshot.configError ? `config.json is invalid: ${snapshot.configError}` : failed?.state === "failed" ? (failed.error ?? "load failed") : "";
      rows.push({ name, version: String(entry.version), state: reason ? "UNAVAILABLE" : "READY", reason });
    }
  }
  return c.json(ready ? rows.filter((r) => r.state === "READY") : rows);
}
