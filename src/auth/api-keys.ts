/**
 * @module auth/api-keys: tenant API keys. A key is `eik_` followed by 43 base64url characters
 * (256 random bits); it is shown once and stored only as its SHA-256 in KV (docs/storage-schema.md).
 */
import { hex } from "../hex";
import { TtlCache } from "../ttl-cache";

/** The recognisable start of every key. */
export const KEY_PREFIX = "eik_";
export const KEY_FORMAT = /^eik_[A-Za-z0-9_-]{43}$/;

/** What KV holds at `key:<sha256>`. */
export interface StoredKey {
  tenant: string;
  key_id: string;
  expires_at: string | null;
}

/** KV key for a key's hash. */
export const kvKeyOf = (hash: string): string => `key:${hash}`;

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Hex SHA-256 of a key: the only form in which keys are stored. */
export async function hashKey(key: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
}

/** A new key, its id, the prefix shown in listings, and its hash. */
export async function generateKey(): Promise<{ key: string; id: string; prefix: string; hash: string }> {
  const key = KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
  const id = `key_${hex(crypto.getRandomValues(new Uint8Array(8)))}`;
  return { key, id, prefix: key.slice(0, KEY_PREFIX.length + 6), hash: await hashKey(key) };
}

/** The bearer credential of an Authorization header. */
export type Bearer = { kind: "missing" } | { kind: "malformed" } | { kind: "present"; token: string };

/** Reads `Authorization: Bearer <token>`; anything else is malformed. */
export function parseBearer(header: string | undefined): Bearer {
  if (header === undefined || header === "") return { kind: "missing" };
  if (header.length > 1024) return { kind: "malformed" };
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return match ? { kind: "present", token: match[1]! } : { kind: "malformed" };
}

/** The result of looking a key up. */
export type KeyVerification =
  | { status: "valid"; tenant: string; keyId: string }
  | { status: "malformed" }
  | { status: "not_found" }
  | { status: "expired"; tenant: string; keyId: string };

/** An isolate's memo of key lookups and hashes (one per isolate, in its core). */
export class KeyCache {
  /** KV lookups by hash; revocation does not wait for it (the tenant's object checks). */
  readonly lookups = new TtlCache<StoredKey | null>(10_000);
  // Recent keys' hashes (the keys are in this isolate's memory per request anyway; never logged,
  // never stored): hashing is a large part of a small request's CPU.
  private readonly hashes = new Map<string, string>();

  /** The key's hash, remembered for the latest thousand keys. */
  async hashOf(key: string): Promise<string> {
    const known = this.hashes.get(key);
    if (known !== undefined) return known;
    const hash = await hashKey(key);
    if (this.hashes.size >= 1000) this.hashes.delete(this.hashes.keys().next().value!);
    this.hashes.set(key, hash);
    return hash;
  }
}

/** Looks a key up: its format, then its hash in KV (memoised in `cache` for `cacheMs`), then its expiry. */
export async function verifyKey(
  cache: KeyCache,
  kv: KVNamespace,
  key: string,
  cacheMs: number,
  nowMs = Date.now(),
  /** Keeps a lookup other requests may share alive past this request (its waitUntil). */
  keepAlive: (lookup: Promise<unknown>) => void = () => undefined,
): Promise<KeyVerification> {
  if (!KEY_FORMAT.test(key)) return { status: "malformed" };
  const hash = await cache.hashOf(key);
  const stored = await cache.lookups.get(hash, cacheMs, () => {
    const lookup = kv.get<StoredKey>(kvKeyOf(hash), "json");
    keepAlive(lookup.catch(() => undefined));
    return lookup;
  });
  if (!stored) return { status: "not_found" };
  if (stored.expires_at !== null && Date.parse(stored.expires_at) <= nowMs) {
    return { status: "expired", tenant: stored.tenant, keyId: stored.key_id };
  }
  return { status: "valid", tenant: stored.tenant, keyId: stored.key_id };
}
