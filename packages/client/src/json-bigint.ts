/**
 * @module json-bigint: JSON that keeps integers beyond ±2^53 exact. The service writes INT64 and
 * UINT64 outputs as exact JSON integers; JSON.parse's reviver sees their source text where the
 * runtime has it (JSON.parse source text access: Node 22, Chromium, workerd, Deno, Bun), and
 * such a number becomes a bigint. Elsewhere (Node 20) they are rounded as JSON.parse does.
 */

interface ReviverContext {
  source?: string;
}

export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, (_key: string, value: unknown, context?: ReviverContext) => {
    if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value) && context?.source && /^-?[0-9]+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}
