/**
 * @module http/admin-tenants: the operators' API for tenants (admin token only): tenants, their
 * policies, their keys and their usage.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { generateKey, kvKeyOf, type StoredKey } from "../auth/api-keys";
import type { AppEnv } from "../env";
import { invalid, notFound } from "../errors";
import type { KeyRecord } from "../tenants/keys";
import { normalisePolicy, PolicySchema, TENANT_NAME } from "../ratelimit/policy";
import { readJsonAs } from "./body";
import { KeyRequestSchema } from "./key-request";
import { adminDocs as docs } from "./openapi/admin-docs";

type C = Context<AppEnv>;

/** KV key prefix of the tenants' names (docs/storage-schema.md). */
const TENANT_INDEX = "tenant:";

function tenantName(c: C): string {
  const name = c.req.param("tenant")!;
  if (!TENANT_NAME.test(name)) {
    throw invalid(`tenant name '${name.slice(0, 80)}' is invalid: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return name;
}

const tenantStub = (c: C, tenant: string) => c.env.TENANTS.get(c.env.TENANTS.idFromName(tenant));
const noTenant = (tenant: string) => notFound(`tenant '${tenant}' not found`);

function keyView(k: KeyRecord, nowMs = Date.now()) {
  const status = k.revoked_at ? "revoked" : k.expires_at && Date.parse(k.expires_at) <= nowMs ? "expired" : "active";
  return { id: k.id, prefix: k.prefix, name: k.name, created_at: k.created_at, expires_at: k.expires_at, revoked_at: k.revoked_at, status };
}

/** Routes under /admin: /tenants... */
export const adminTenants = new Hono<AppEnv>()
  .put("/tenants/:tenant", docs.putTenant, async (c) => {
    const tenant = tenantName(c);
    const policy = normalisePolicy(await readJsonAs(c, PolicySchema, "tenant policy"));
    const result = await tenantStub(c, tenant).putPolicy(tenant, policy);
    // Durable Objects cannot be enumerated: KV keeps the names, for GET /admin/tenants (written on
    // every PUT, so a tenant made before the index existed is listed once its policy is put again).
    await c.env.API_KEYS.put(`${TENANT_INDEX}${tenant}`, "");
    return c.json(result.tenant, result.created ? 201 : 200);
  })
  .get("/tenants", docs.listTenants, async (c) => {
    const cursor = c.req.query("cursor");
    const page = await c.env.API_KEYS.list({ prefix: TENANT_INDEX, limit: 1000, ...(cursor ? { cursor } : {}) });
    const tenants = page.keys.map((k) => k.name.slice(TENANT_INDEX.length));
    return c.json({ tenants, ...(page.list_complete ? {} : { cursor: page.cursor }) });
  })
  .get("/tenants/:tenant", docs.getTenant, async (c) => {
    const tenant = tenantName(c);
    const view = await tenantStub(c, tenant).getTenant();
    if (!view) throw noTenant(tenant);
    return c.json(view);
  })
  .post("/tenants/:tenant/keys", docs.createKey, async (c) => {
    const tenant = tenantName(c);
    const request = await readJsonAs(c, KeyRequestSchema, "key request", true);
    const now = Date.now();
    const expiresAt = request.expires_at
      ? new Date(request.expires_at).toISOString()
      : request.expires_in_seconds
        ? new Date(now + request.expires_in_seconds * 1000).toISOString()
        : null;
    if (expiresAt && Date.parse(expiresAt) <= now) throw invalid("key request field 'expires_at': must be in the future");
    const { key, id, prefix, hash } = await generateKey();
    const record: KeyRecord = { id, hash, prefix, name: request.name ?? null, created_at: new Date(now).toISOString(), expires_at: expiresAt, revoked_at: null };
    // The tenant's object first: a key KV knows but the object does not is refused anyway.
    if (!(await tenantStub(c, tenant).addKey(record))) throw noTenant(tenant);
    const stored: StoredKey = { tenant, key_id: id, expires_at: expiresAt };
    await c.env.API_KEYS.put(kvKeyOf(hash), JSON.stringify(stored));
    return c.json({ ...keyView(record, now), tenant, key }, 201);
  })
  .get("/tenants/:tenant/keys", docs.listKeys, async (c) => {
    const tenant = tenantName(c);
    const keys = await tenantStub(c, tenant).listKeys();
    if (!keys) throw noTenant(tenant);
    return c.json({ tenant, keys: keys.map((k) => keyView(k)) });
  })
  .delete("/tenants/:tenant/keys/:id", docs.revokeKey, async (c) => {
    const tenant = tenantName(c);
    const id = c.req.param("id");
    if (!/^key_[0-9a-f]{16}$/.test(id)) throw notFound(`key '${id.slice(0, 40)}' not found`);
    const stub = tenantStub(c, tenant);
    const record = await stub.revokeKey(id);
    if (!record) throw (await stub.getTenant()) ? notFound(`key '${id}' not found`) : noTenant(tenant);
    // Revocation is already in force (the tenant's object refuses the key); KV is only tidied.
    await c.env.API_KEYS.delete(kvKeyOf(record.hash));
    return c.json(keyView(record));
  })
  .get("/tenants/:tenant/usage", docs.usage, async (c) => {
    const tenant = tenantName(c);
    const days = await tenantStub(c, tenant).usage();
    if (!days) throw noTenant(tenant);
    return c.json({ tenant, days });
  });
