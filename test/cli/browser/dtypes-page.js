/**
 * Runs in a Chromium page (test/cli/client.test.ts), loaded as a module beside the built client:
 * every datatype through `infer` on the `dtypes` model, as binary and as JSON. Plain JavaScript,
 * served as is, so that no bundler rewrites what the page runs.
 */
import { InferenceClient, InferInput } from "./index.js";

/**
 * @param {{ url: string, key: string, cases: Record<string, Record<string, string[]>> }} args
 *   values arrive as text: numbers, booleans and 64-bit integers (as bigints) are made again here
 * @returns {Promise<Record<string, Record<string, string[]>>>} each output's values as text
 */
export async function run({ url, key, cases }) {
  const client = new InferenceClient({ url, apiKey: key });
  /** @type {Record<string, Record<string, string[]>>} */
  const out = {};
  for (const [mode, values] of Object.entries(cases)) {
    const binary = mode === "binary";
    const inputs = Object.entries(values).map(([datatype, data]) => {
      const parsed = data.map((v) => (datatype.endsWith("INT64") ? BigInt(v) : datatype === "BOOL" ? v === "true" : datatype === "BYTES" ? v : Number(v)));
      return new InferInput(`x_${datatype.toLowerCase()}`, [parsed.length], datatype).setData(/** @type {any} */ (parsed), { binary });
    });
    const result = await client.infer("dtypes", inputs, { binaryOutput: binary });
    out[mode] = Object.fromEntries(result.outputNames.map((name) => [name, result.asArray(name).map(String)]));
  }
  return out;
}
