/** @module tensor/zod-message: turns a zod failure into one sentence that names the field. */
import type { z } from "zod";

/** `inputs[0].datatype: Invalid option: expected one of "BOOL"|...` for the first issue. */
export function zodMessage(error: z.ZodError, what: string): string {
  const issue = error.issues[0];
  if (!issue) return `${what} is invalid`;
  const path = issue.path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    "",
  );
  // A bad record key: zod reports "Invalid key in record" and keeps the key's own reason inside.
  const inner = issue.code === "invalid_key" ? issue.issues[0]?.message : undefined;
  return `${what}${path ? ` field '${path}'` : ""}: ${inner ?? issue.message}`;
}
