/**
 * Headless Chromium for the console's test: Debian's build (`apt-get install chromium`, as .ci/run
 * does) driven by playwright-core, which downloads no browser of its own. CHROMIUM_PATH overrides.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  // --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}
