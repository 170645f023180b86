/**
 * Checks in Node (the FIXTURES binding calls these for tests in workerd, which forbids the code
 * generation a JSON Schema validator does): that the Worker's OpenAPI document is valid OpenAPI,
 * and that a response matches the schema the document gives for its route and status.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";

type Doc = { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: object }> }> }>>; components?: object };

/** Whether `document` is valid OpenAPI (of the version it says), and the validator's errors. */
export async function validateDocument(document: unknown): Promise<{ valid: boolean; version?: string; errors?: unknown }> {
  const validator = new Validator();
  const result = await validator.validate(document as Parameters<Validator["validate"]>[0]);
  return { valid: result.valid, version: validator.version, ...(result.valid ? {} : { errors: result.errors }) };
}

/** The document's path template that `path` (a concrete URL path) falls under: the most specific one. */
export function templateOf(document: Doc, path: string): string | undefined {
  const matches = Object.keys(document.paths).filter((t) => {
    const pattern = t.replace(/[.+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/:]+");
    return new RegExp(`^${pattern}$`).test(path);
  });
  const literal = (t: string) => t.replace(/\{[^}]+\}/g, "").length;
  return matches.sort((a, b) => literal(b) - literal(a))[0];
}

/** Problems with a response against the document: an undocumented route or status, or a body off its schema. */
export function conformanceProblems(document: Doc, method: string, path: string, status: number, contentType: string, body: unknown): string[] {
  const template = templateOf(document, path);
  if (!template) return [`${path} is in no path of the document`];
  const operation = document.paths[template]![method.toLowerCase()];
  if (!operation) return [`${method} ${template} is not in the document`];
  const response = operation.responses?.[String(status)];
  if (!response) return [`${method} ${template} does not document status ${status}`];
  const media = contentType.split(";")[0]!.trim();
  if (media !== "application/json") return response.content?.[media] || Object.keys(response.content ?? {}).some((m) => m.startsWith(media)) ? [] : [`${method} ${template} ${status} does not document ${media}`];
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return [`${method} ${template} ${status} documents no JSON schema`];
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile({ ...schema, components: document.components });
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${method} ${template} ${status}: ${e.instancePath || "(body)"} ${e.message}`);
}
