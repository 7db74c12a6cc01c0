import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { type Environment, resolveServer } from "../src/serverCommand";

function env(executables: string[], overrides: Partial<Environment> = {}): Environment {
  return {
    platform: "linux",
    searchPath: "/usr/local/bin:/usr/bin",
    workspaceFolder: "/ws",
    isExecutable: (file) => executables.includes(file),
    ...overrides,
  };
}

const unset = { path: "", venv: "" };

describe("finding tandem serve", () => {
  it("uses tandem.server.path first, relative to the workspace folder", () => {
    const found = resolveServer({ path: "tools/tandem", venv: "/v" }, env(["/ws/tools/tandem", "/v/bin/tandem"]));
    assert.deepEqual(found, { found: true, command: "/ws/tools/tandem", args: ["serve"], source: "tandem.server.path" });
  });

  it("says so when tandem.server.path is not an executable, instead of guessing another", () => {
    const result = resolveServer({ path: "/nope/tandem", venv: "" }, env(["/usr/bin/tandem"]));
    assert.equal(result.found, false);
    assert.match(result.found ? "" : result.message, /tandem\.server\.path is \/nope\/tandem/);
  });

  it("uses the virtual environment's bin/tandem, with its own pip in the install command", () => {
    assert.equal(resolveServer({ path: "", venv: "/v" }, env(["/v/bin/tandem"])).found, true);
    const missing = resolveServer({ path: "", venv: "/v" }, env([]));
    assert.deepEqual(missing.found ? undefined : missing.installCommand, "/v/bin/pip install tandem-lsp");
  });

  it("finds a workspace .venv before PATH", () => {
    const found = resolveServer(unset, env(["/ws/.venv/bin/tandem", "/usr/bin/tandem"]));
    assert.equal(found.found && found.command, "/ws/.venv/bin/tandem");
  });

  it("searches PATH in order", () => {
    const found = resolveServer(unset, env(["/usr/bin/tandem"]));
    assert.equal(found.found && found.source, "PATH");
    assert.equal(found.found && found.command, "/usr/bin/tandem");
  });

  it("explains how to install Tandem when it is nowhere", () => {
    const missing = resolveServer(unset, env([]));
    assert.equal(missing.found, false);
    if (!missing.found) {
      assert.match(missing.message, /pip install tandem-lsp/);
      assert.equal(missing.installCommand, "python3 -m pip install tandem-lsp");
    }
  });

  it("uses Scripts\\tandem.exe and ; on Windows", () => {
    const windows = env(["C:\\py\\Scripts\\tandem.exe"], {
      platform: "win32",
      searchPath: "C:\\py\\Scripts;C:\\Windows",
      workspaceFolder: undefined,
    });
    const found = resolveServer(unset, windows);
    assert.equal(found.found && found.command, "C:\\py\\Scripts\\tandem.exe");
    const venv = resolveServer({ path: "", venv: "C:\\py" }, windows);
    assert.equal(venv.found && venv.command, "C:\\py\\Scripts\\tandem.exe");
  });
});
