import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";

import { expectedPackageJson, PACKAGE_PATH, SCHEMA_PATH } from "../scripts/generateSettings";
import { configurationFromSchema, isExtensionSetting } from "../src/settingsSchema";

function realSchema(): { [key: string]: unknown } {
  return JSON.parse(fs.readFileSync(SCHEMA_PATH, "utf8")) as { [key: string]: unknown };
}

describe("settings contributed to VS Code", () => {
  it("package.json is current with tandem.schema.json (else run `npm run generate-settings`)", () => {
    assert.equal(fs.readFileSync(PACKAGE_PATH, "utf8"), expectedPackageJson());
  });

  it("has one setting per leaf of the server's schema, under the same key path", () => {
    const properties = configurationFromSchema(realSchema()).properties;
    assert.ok("tandem.budgets.small.max_usd" in properties);
    assert.ok("tandem.routes.plan.high" in properties);
    assert.ok("tandem.models" in properties, "maps stay one setting");
    assert.ok("tandem.risk.path_rules" in properties, "lists stay one setting");
    assert.ok(!("tandem.budgets" in properties), "sections are flattened");
  });

  it("offers decimals as numbers and keeps the default from the parent section", () => {
    const properties = configurationFromSchema(realSchema()).properties;
    const maxUsd = properties["tandem.budgets.small.max_usd"];
    assert.equal(maxUsd.type, "number");
    assert.equal(maxUsd.default, 0.1);
    assert.deepEqual(properties["tandem.budgets.daily_usd"].type, ["number", "null"]);
  });

  it("inlines references so VS Code can validate a model alias", () => {
    const models = configurationFromSchema(realSchema()).properties["tandem.models"];
    const alias = models.additionalProperties as { properties: { [key: string]: { enum?: unknown } } };
    assert.deepEqual(alias.properties.provider.enum, ["anthropic", "openai", "openai-compatible", "fake"]);
    assert.ok(!JSON.stringify(models).includes("$ref"));
  });

  it("follows a schema it has not seen: nested sections, nullable strings, refs with defaults", () => {
    const schema = {
      $defs: { Inner: { type: "object", properties: { depth: { type: "integer" } } } },
      properties: {
        outer: {
          type: "object",
          properties: {
            inner: { $ref: "#/$defs/Inner", default: { depth: 3 } },
            label: { anyOf: [{ type: "string" }, { type: "null" }], default: null, description: "A label." },
          },
        },
      },
    };
    const properties = configurationFromSchema(schema).properties;
    assert.deepEqual(properties["tandem.outer.inner.depth"].default, 3);
    assert.deepEqual(properties["tandem.outer.label"].type, ["string", "null"]);
    assert.match(String(properties["tandem.outer.label"].markdownDescription), /^A label\./);
  });

  it("adds the extension's own settings, which the server never receives", () => {
    const properties = configurationFromSchema(realSchema()).properties;
    for (const key of ["server.path", "server.venv", "statusBar.pollSeconds"]) {
      assert.ok(`tandem.${key}` in properties);
      assert.ok(isExtensionSetting(key));
    }
    assert.ok(!isExtensionSetting("budgets.daily_usd"));
  });
});
