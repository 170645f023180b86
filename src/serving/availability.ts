/**
 * @module serving/availability: which listing a model's unlabelled traffic is routed with in this
 * isolate, and where it falls back. Traffic moves to a new listing's versions only once they are
 * loaded here (TF Serving's availability-preserving policy); until then the versions routed to
 * before keep serving while the new ones load in the background. A routed version that fails to
 * load falls back to the version that last served such traffic.
 */
import type { ModelSnapshot, VersionEntry } from "./repository";
import { routedVersions } from "./router";

/** The isolate's routing state for every model. */
export class Availability {
  /** Per model, the snapshot unlabelled traffic is routed with. */
  private readonly routing = new Map<string, ModelSnapshot>();
  /** Moves being warmed, so each is started once. */
  private readonly warming = new Set<string>();
  /** Per model, the version that last served unlabelled traffic. */
  private readonly lastRouted = new Map<string, number>();

  constructor(private readonly isReady: (model: string, entry: VersionEntry) => boolean) {}

  /**
   * The snapshot to route with: `latest`, unless the versions it routes to are not loaded here yet
   * while the ones routed to until now still are (and are still published). Then `warm` is asked
   * to load the new ones (once per move) and the current snapshot is kept.
   */
  choose(latest: ModelSnapshot, warm: (entries: VersionEntry[]) => Promise<unknown>): ModelSnapshot {
    const name = latest.name;
    const current = this.routing.get(name);
    if (current === latest) return latest;
    const ready = (e: VersionEntry) => this.isReady(name, e);
    const wanted = routedVersions(latest);
    const held = current ? routedVersions(current) : [];
    const stillPublished = (e: VersionEntry) => latest.versions.some((v) => v.version === e.version && v.etag === e.etag);
    const holdable = current && !current.configError && held.length > 0 && held.every((e) => ready(e) && stillPublished(e));
    if (!holdable || latest.configError || wanted.every(ready)) {
      this.routing.set(name, latest);
      return latest;
    }
    const move = `${name}\u0000${wanted.map((e) => `${e.version}@${e.etag}`).join(",")}`;
    if (!this.warming.has(move)) {
      this.warming.add(move);
      console.log(JSON.stringify({ level: "info", event: "routing_warm", model: name, from: held.map((e) => e.version), to: wanted.map((e) => e.version) }));
      // A failure is remembered by the manager: routing stays put and the admin API shows it.
      void warm(wanted.filter((e) => !ready(e)))
        .catch(() => undefined)
        .finally(() => this.warming.delete(move));
    }
    return current!;
  }

  /** Records that `version` served unlabelled traffic of `model`. */
  served(model: string, version: number): void {
    this.lastRouted.set(model, version);
  }

  /** The version to serve instead of `failed`: the last one that served, if published and loaded. */
  fallback(snapshot: ModelSnapshot, failed: number): VersionEntry | undefined {
    const version = this.lastRouted.get(snapshot.name);
    if (version === undefined || version === failed) return undefined;
    const entry = snapshot.versions.find((v) => v.version === version);
    return entry && this.isReady(snapshot.name, entry) ? entry : undefined;
  }
}
