/**
 * The "cli" project's globalSetup: starts, in the background, the `wrangler dev` of each file
 * about to run (test/cli/servers.ts), one at a time, so that they boot while the workerd
 * projects run instead of one after another before each file. Also serves cors-browser's page,
 * whose origin its server must allow before it starts. Stops them all after the run.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { TestProject } from "vitest/node";
import { errorFile, readyFile, SERVERS, wantedFile, type ServerName } from "./servers.ts";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

/** The servers of the files this run holds (all of them, unless the run names files). */
async function wanted(project: TestProject): Promise<ServerName[]> {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern ?? [];
  const { testFiles } = await project.globTestFiles(filters);
  const names = testFiles.map((f) => basename(f, ".test.ts"));
  return (Object.keys(SERVERS) as ServerName[]).filter((name) => names.includes(name));
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // One page server, reached as two origins: 127.0.0.1 is allowed, localhost is not.
  const pages = createServer((_, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>another site</title>"));
  await new Promise<void>((r) => pages.listen(0, "127.0.0.1", r));
  const pagesPort = (pages.address() as AddressInfo).port;
  const notes = mkdtempSync(join(tmpdir(), "edge-inference-cli-notes-"));
  project.provide("wranglerNotes", notes);
  project.provide("corsPagesPort", pagesPort);

  const queue = await wanted(project);
  const running: WranglerDev[] = [];
  // A file that already waits for its server (wantedFile) goes first; the rest in the table's order.
  const next = () => {
    const waiting = queue.findIndex((name) => existsSync(wantedFile(notes, name)));
    return queue.splice(Math.max(waiting, 0), 1)[0];
  };
  const boot = async () => {
    for (let name = next(); name; name = next()) {
      try {
        const state = mkdtempSync(join(tmpdir(), "edge-inference-cli-"));
        const dev = await startWranglerDev(state, SERVERS[name](`http://127.0.0.1:${pagesPort}`));
        running.push(dev);
        writeFileSync(readyFile(notes, name), JSON.stringify({ url: dev.url, state: dev.state }));
      } catch (e) {
        writeFileSync(errorFile(notes, name), `wrangler dev "${name}": ${String(e)}`);
      }
    }
  };
  // One at a time: on two cores the workerd projects' start takes the other core.
  const booting = boot();

  return async () => {
    queue.length = 0;
    await booting;
    await Promise.all(running.map((dev) => dev.stop()));
    await new Promise((r) => pages.close(r));
    rmSync(notes, { recursive: true, force: true });
  };
}
