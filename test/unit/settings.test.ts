/**
 * The settings schema (src/settings.ts) against wrangler.toml's [vars] and docs/configuration.md,
 * and how it reads values: defaults, zero, case, and bad values refused by name.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIGURATION_PAGE, pageTable, settingsTable } from "../../scripts/settings-table.ts";
import { projectRoot } from "../../scripts/model-sources.ts";
import { parseSettings, SETTING_NAMES, SettingsError } from "../../src/settings.ts";

/** wrangler.toml's [vars]: `NAME = "value"` lines up to the next table. */
function wranglerVars(): Record<string, string> {
  const text = readFileSync(join(projectRoot, "wrangler.toml"), "utf8");
  const section = text.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0];
  if (section === undefined) throw new Error("wrangler.toml has no [vars]");
  const vars: Record<string, string> = {};
  for (const m of section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"\s*$/gm)) vars[m[1]!] = m[2]!;
  return vars;
}

describe("settings schema", () => {
  const vars = wranglerVars();

  it("has every setting of wrangler.toml's [vars], and no other", () => {
    expect(Object.keys(vars).length).toBeGreaterThan(10);
    expect([...SETTING_NAMES].sort()).toEqual(Object.keys(vars).sort());
  });

  it("has wrangler.toml's values as its defaults", () => {
    expect(parseSettings({})).toEqual(parseSettings(vars));
  });

  it("is the table in docs/configuration.md", () => {
    const table = pageTable(readFileSync(CONFIGURATION_PAGE, "utf8"));
    // On failure: `npm run settings-table` rewrites the page's table from the schema.
    expect(table).toBe(settingsTable());
    for (const name of SETTING_NAMES) expect(table).toContain(`\`${name}\``);
  });
});

describe("reading settings", () => {
  it("takes the default for an unset or blank value, and keeps zero as zero", () => {
    const s = parseSettings({ KEY_CACHE_SECONDS: "0", STATS_FLUSH_MS: "0", MAX_REQUEST_BYTES: "  " });
    expect(s.KEY_CACHE_SECONDS).toBe(0);
    expect(s.STATS_FLUSH_MS).toBe(0);
    expect(s.MAX_REQUEST_BYTES).toBe(parseSettings({}).MAX_REQUEST_BYTES);
  });

  it("trims values and reads choices without regard to case", () => {
    const s = parseSettings({ REQUEST_LOG: " Errors ", MODEL_BYTES_CACHE: "OFF", RATE_LIMIT_FAILURE_MODE: "Open", MAX_MODEL_BYTES: " 1024 " });
    expect(s).toMatchObject({ REQUEST_LOG: "errors", MODEL_BYTES_CACHE: "off", RATE_LIMIT_FAILURE_MODE: "open", MAX_MODEL_BYTES: 1024 });
  });

  it.each([
    ["MAX_REQUEST_BYTES", "abc"],
    ["MAX_REQUEST_BYTES", "0"],
    ["MAX_MODEL_BYTES", "1.5"],
    ["STATS_FLUSH_MS", "-1"],
    ["REQUEST_MEMORY_TENANT_SHARE", "0"],
    ["REQUEST_MEMORY_TENANT_SHARE", "1.5"],
    ["RATE_LIMIT_FAILURE_MODE", "shut"],
    ["REQUEST_LOG", "verbose"],
    ["MODEL_REFRESH_SECONDS", "Infinity"],
  ])("refuses %s=%s, naming the variable and its value", (name, value) => {
    expect(() => parseSettings({ [name]: value })).toThrow(SettingsError);
    expect(() => parseSettings({ [name]: value })).toThrow(`${name}=${JSON.stringify(value)}`);
  });

  it("names every bad variable at once", () => {
    const error = (() => {
      try {
        parseSettings({ MAX_REQUEST_BYTES: "lots", KEY_CACHE_SECONDS: "-5" });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toContain("MAX_REQUEST_BYTES");
    expect(error?.message).toContain("KEY_CACHE_SECONDS");
  });
});
