import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { explicitValue, settingsTree } from "../src/settingsTree";

describe("the settings tree sent to the server", () => {
  it("nests flat keys into the tree tandem.toml uses", () => {
    const tree = settingsTree([
      ["budgets.small.max_usd", 0.2],
      ["budgets.daily_usd", 5],
      ["routes.single_model", "strong"],
    ]);
    assert.deepEqual(tree, {
      budgets: { small: { max_usd: 0.2 }, daily_usd: 5 },
      routes: { single_model: "strong" },
    });
  });

  it("leaves out unset values and the extension's own settings", () => {
    const tree = settingsTree([
      ["server.path", "/usr/bin/tandem"],
      ["statusBar.pollSeconds", 10],
      ["context.budget_tokens", undefined],
    ]);
    assert.deepEqual(tree, {});
  });

  it("keeps maps and lists whole", () => {
    const models = { strong: { provider: "fake", model: "fake-strong" } };
    assert.deepEqual(settingsTree([["models", models]]), { models });
  });

  it("takes the most specific scope the user set, never VS Code's default", () => {
    assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
    assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2 }), 2);
    assert.equal(explicitValue({ globalValue: 1 }), 1);
    assert.equal(explicitValue({ defaultValue: 4 } as never), undefined);
    assert.equal(explicitValue(undefined), undefined);
  });
});
