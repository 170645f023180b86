/** @module own: reading a user-named key of a plain object (labels, batch axes, traffic weights). */

/**
 * The value `record` holds under `key` as its own property, or undefined. A plain lookup would find
 * what every object inherits: a label named `constructor` would name Object itself.
 */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
