/**
 * @module serving/manager: the isolate's cache of loaded model versions. Loads are single-flight,
 * entries are keyed by model, version, object etag and session options, the total is bounded by
 * estimated bytes (least recently used evicted first), and a session is released only when no
 * lease holds it.
 */
import type { LoadedSession } from "./loader";

/** Identifies the bytes a session was built from, and the options it was built with. */
export interface SessionKey {
  model: string;
  version: number;
  etag: string;
  /** onnxruntime's session options from the model's config (serving/session-options); absent for the defaults. */
  options?: string;
}

/** A claim on a loaded session for the length of one request. Release it exactly once. */
export interface Lease {
  readonly session: LoadedSession;
  release(): void;
}

/** What the manager knows of one entry, for status endpoints. */
export interface EntryStatus {
  model: string;
  version: number;
  etag: string;
  options?: string;
  state: "loading" | "ready" | "failed";
  estimatedBytes: number;
  leases: number;
  error?: string;
}

interface Entry {
  key: SessionKey;
  estimatedBytes: number;
  loading: Promise<LoadedSession>;
  session?: LoadedSession;
  error?: unknown;
  failedAt?: number;
  leases: number;
  lastUsed: number;
  /** Out of the cache; released when its last lease ends. */
  evicted: boolean;
}

/** A session key as one string. */
export const sessionId = (k: SessionKey) => `${k.model}/${k.version}@${k.etag}${k.options ? `#${k.options}` : ""}`;
const id = sessionId;

/** Options for a ModelManager. */
export interface ManagerOptions {
  /** Estimated bytes of loaded sessions to keep. */
  maxBytes: number;
  /** How long a failed load is remembered before the same bytes are tried again. */
  failureTtlMs: number;
  /** Which load failures to remember for failureTtlMs; the others are forgotten at once. Default: all. */
  remembers?: (error: unknown) => boolean;
  now?: () => number;
}

/** The isolate's loaded sessions. */
export class ModelManager {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: ManagerOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Leases the session for `key`, loading it with `load` if no one has (concurrent callers share
   * the load). Entries for other etags or options of the same version are evicted: their bytes or
   * their options were replaced.
   */
  async acquire(key: SessionKey, estimatedBytes: number, load: () => Promise<LoadedSession>): Promise<Lease> {
    let entry = this.entries.get(id(key));
    if (entry?.failedAt !== undefined && this.now() - entry.failedAt >= this.options.failureTtlMs) {
      this.entries.delete(id(key));
      entry = undefined;
    }
    const fresh = !entry;
    entry ??= this.start(key, estimatedBytes, load);
    entry.leases++;
    entry.lastUsed = this.now();
    if (fresh) {
      this.evictOtherBuilds(key);
      this.enforceBudget();
    }
    let session: LoadedSession;
    try {
      session = await entry.loading;
    } catch (e) {
      entry.leases--;
      throw e;
    }
    let released = false;
    const held = entry;
    return {
      session,
      release: () => {
        if (released) return;
        released = true;
        held.leases--;
        held.lastUsed = this.now();
        if (held.evicted && held.leases === 0) void this.dispose(held);
        else this.enforceBudget(); // sessions busy at the last check may be idle now
      },
    };
  }

  /**
   * Takes a session someone else loaded (a publish that validated the bytes) into the cache, so
   * the first request for it does not load it again. If the key is already cached, the offered
   * session is released instead.
   */
  adopt(key: SessionKey, estimatedBytes: number, session: LoadedSession): void {
    const existing = this.entries.get(id(key));
    if (existing && existing.failedAt === undefined) {
      void session.release().catch(() => undefined);
      return;
    }
    if (existing) this.entries.delete(id(key));
    this.start(key, estimatedBytes, async () => session);
    this.evictOtherBuilds(key);
    this.enforceBudget();
  }

  /** The loaded session for `key`, without leasing it (for status only: never run it). */
  peek(key: SessionKey): LoadedSession | undefined {
    return this.entries.get(id(key))?.session;
  }

  /** True when `key`'s session is loaded and cached. */
  isReady(key: SessionKey): boolean {
    return this.entries.get(id(key))?.session !== undefined;
  }

  /** The failure remembered for `key`, if its last load failed recently. */
  failure(key: SessionKey): unknown {
    const entry = this.entries.get(id(key));
    return entry?.failedAt !== undefined ? entry.error : undefined;
  }

  /** Every entry, for status and admin endpoints. */
  status(): EntryStatus[] {
    return [...this.entries.values()].map((e) => ({
      ...e.key,
      state: e.session ? "ready" : e.failedAt !== undefined ? "failed" : "loading",
      estimatedBytes: e.estimatedBytes,
      leases: e.leases,
      ...(e.failedAt !== undefined ? { error: e.error instanceof Error ? e.error.message : String(e.error) } : {}),
    }));
  }

  /** Estimated bytes held by sessions in the cache. */
  get usedBytes(): number {
    let total = 0;
    for (const e of this.entries.values()) if (e.failedAt === undefined) total += e.estimatedBytes;
    return total;
  }

  private start(key: SessionKey, estimatedBytes: number, load: () => Promise<LoadedSession>): Entry {
    const entry: Entry = {
      key,
      estimatedBytes,
      loading: Promise.resolve().then(load),
      leases: 0,
      lastUsed: this.now(),
      evicted: false,
    };
    entry.loading.then(
      (session) => {
        entry.session = session;
        // Evicted while loading (its etag or options were replaced, or the budget needed the room).
        if (entry.evicted && entry.leases === 0) void this.dispose(entry);
      },
      (error) => {
        if (this.options.remembers?.(error) === false) {
          if (this.entries.get(id(key)) === entry) this.entries.delete(id(key));
          return;
        }
        entry.error = error;
        entry.failedAt = this.now();
      },
    );
    this.entries.set(id(key), entry);
    return entry;
  }

  private evictOtherBuilds(key: SessionKey): void {
    for (const entry of this.entries.values()) {
      if (entry.key.model === key.model && entry.key.version === key.version && id(entry.key) !== id(key)) {
        this.evict(entry);
      }
    }
  }

  private enforceBudget(): void {
    const idle = [...this.entries.values()]
      .filter((e) => e.leases === 0 && e.failedAt === undefined)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    // Entries in use stay even over budget: the budget is an estimate, a request is not.
    while (this.usedBytes > this.options.maxBytes && idle.length > 0) this.evict(idle.shift()!);
  }

  private evict(entry: Entry): void {
    if (this.entries.get(id(entry.key)) === entry) this.entries.delete(id(entry.key));
    entry.evicted = true;
    if (entry.leases === 0 && entry.session) void this.dispose(entry);
  }

  private async dispose(entry: Entry): Promise<void> {
    const session = entry.session;
    entry.session = undefined;
    await session?.release().catch(() => undefined);
  }
}
