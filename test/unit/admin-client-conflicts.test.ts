/**
 * How the AdminClient tells a stale If-Match (412, code precondition_failed) from other conflicts:
 * by status and code, never by the wording of the server's message. The server's answers here are
 * written out as the service sends them (test/cli/client.test.ts provokes a real 412).
 */
import { AdminClient, ConflictError, PreconditionFailedError } from "@edge-inference/client";
import { describe, expect, it } from "vitest";

/** A client whose PUTs of a config are answered by `answer`, counting them; reads answer a config and its etag. */
function clientAnswering(answer: () => Response) {
  let puts = 0;
  const client = new AdminClient({
    url: "http://127.0.0.1:1",
    token: "t",
    fetch: async (_input, init) => {
      if (init.method === "PUT") {
        puts++;
        return answer();
      }
      return Response.json({ model: "m", config: {}, etag: "e1" });
    },
  });
  return { client, puts: () => puts };
}

describe("AdminClient.updateConfig", () => {
  it("edits again after a 412, whatever its message says, and throws PreconditionFailedError once out of attempts", async () => {
    const { client, puts } = clientAnswering(() => Response.json({ error: "the config changed meanwhile", code: "precondition_failed" }, { status: 412 }));
    const error = await client.updateConfig("m", (c) => void (c.description = "x"), { attempts: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect(error).toMatchObject({ status: 412, code: "precondition_failed" });
    expect(puts()).toBe(3);
  });

  it("does not edit again after a 409 that is not a stale If-Match, even when its message names If-Match", async () => {
    const { client, puts } = clientAnswering(() => Response.json({ error: "version 3 cannot be loaded (If-Match was fine)", code: "conflict" }, { status: 409 }));
    const error = await client.updateConfig("m", (c) => void (c.description = "x"), { attempts: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).not.toBeInstanceOf(PreconditionFailedError);
    expect(puts()).toBe(1);
  });
});
