/** The clients' key and admin token: sent with every call, never shown by console.log or JSON.stringify of a client. */
import { AdminClient, InferenceClient } from "@edge-inference/client";
import { describe, expect, it } from "vitest";

/** Every string reachable through own properties, enumerable or not (what console.log and a debugger list). */
function reachableStrings(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === "string") return [value];
  if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) return [];
  seen.add(value);
  return Reflect.ownKeys(value).flatMap((k) => {
    const d = Object.getOwnPropertyDescriptor(value, k);
    return d && "value" in d ? reachableStrings(d.value, seen) : [];
  });
}

describe("a client's credentials", () => {
  it("are in no listing of the client, and still go with each call", async () => {
    const sent: (string | null)[] = [];
    const fetch = async (_input: string, init: RequestInit) => {
      sent.push(new Headers(init.headers).get("authorization"));
      return Response.json({ live: true });
    };
    const clients = [new InferenceClient({ url: "http://127.0.0.1:1", apiKey: "ei_secret-key-1", fetch }), new AdminClient({ url: "http://127.0.0.1:1", token: "secret-admin-token", fetch })];
    for (const client of clients) {
      const shown = [JSON.stringify(client), ...reachableStrings(client)];
      for (const text of shown) expect(text).not.toMatch(/secret/);
    }
    const [inference, admin] = clients as [InferenceClient, AdminClient];
    await inference.isServerLive();
    await admin.models().catch(() => undefined);
    expect(sent).toEqual(["Bearer ei_secret-key-1", "Bearer secret-admin-token"]);
  });
});
