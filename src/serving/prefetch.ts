/**
 * @module serving/prefetch: overlaps a keyed request's waits. Once the caller is known, the model
 * its path names is listed while the tenant's admission is decided, so a cold isolate waits for
 * the two at once instead of one after the other. The listing lands in the isolate's cache, where
 * the handler finds it (or joins it in flight); a refused request has at most warmed that cache.
 */
import { isModelName, modelInPath } from "./names";

/**
 * Starts `list` for the model `path` names (if it names a valid one), then awaits `admit`. A
 * failed listing is left to the handler, which asks again and reports it.
 */
export function admitWithListing<T>(path: string, list: (model: string) => Promise<unknown>, admit: () => Promise<T>): Promise<T> {
  const model = modelInPath(path);
  if (model !== null && isModelName(model)) list(model).catch(() => undefined);
  return admit();
}
