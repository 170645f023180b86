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
  return `${what}${path ? ` field '${path}'` : ""}: ${issue.message}`;
}
