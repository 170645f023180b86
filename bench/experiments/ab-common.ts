/** What the two A/B experiments (ab.ts in one isolate, ab-http.ts over HTTP) share. */
import { CASES, type Case } from "../cases.ts";

/** The benchmark cases of these models; throws naming the cases there are. */
export function casesNamed(models: readonly string[]): Case[] {
  return models.map((m) => {
    const c = CASES.find((x) => x.model === m);
    if (!c) throw new Error(`no case ${m}; cases: ${CASES.map((x) => x.model).join(", ")}`);
    return c;
  });
}

/** The median (the mean of the middle two for an even count). */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
