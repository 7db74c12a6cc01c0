/**
 * Regenerates `contributes.configuration` in package.json from the repository's
 * `tandem.schema.json`. Run `npm run generate-settings` after the server's settings change;
 * with `--check` it only reports whether package.json is stale (a unit test does the same).
 */

import * as fs from "fs";
import * as path from "path";

import { configurationFromSchema } from "../src/settingsSchema";

export const EXTENSION_ROOT = path.resolve(__dirname, "..", "..");
export const SCHEMA_PATH = path.resolve(EXTENSION_ROOT, "..", "..", "tandem.schema.json");
export const PACKAGE_PATH = path.join(EXTENSION_ROOT, "package.json");

export function expectedPackageJson(): string {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, "utf8")) as { [key: string]: unknown };
  const manifest = JSON.parse(fs.readFileSync(PACKAGE_PATH, "utf8")) as {
    contributes: { [key: string]: unknown };
  };
  manifest.contributes.configuration = configurationFromSchema(schema);
  return JSON.stringify(manifest, null, 2) + "\n";
}

function main(): void {
  const expected = expectedPackageJson();
  const current = fs.readFileSync(PACKAGE_PATH, "utf8");
  if (process.argv.includes("--check")) {
    if (current !== expected) {
      console.error("package.json settings are stale: run `npm run generate-settings`");
      process.exitCode = 1;
    }
    return;
  }
  fs.writeFileSync(PACKAGE_PATH, expected);
  console.log(`wrote contributes.configuration to ${PACKAGE_PATH} from ${SCHEMA_PATH}`);
}

if (require.main === module) {
  main();
}
