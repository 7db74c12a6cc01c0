/**
 * The settings tree sent to the server (`initializationOptions` and
 * `workspace/didChangeConfiguration`), built from the flat VS Code settings the user set.
 *
 * Only values the user set explicitly are sent: VS Code's defaults mirror the server's built-in
 * ones, and sending them would hide the workspace's `tandem.toml`.
 */

import { isExtensionSetting } from "./settingsSchema";

export type SettingsTree = { [key: string]: unknown };

/** The value VS Code's `inspect()` reports, most specific scope first. */
export interface InspectedValue {
  workspaceFolderValue?: unknown;
  workspaceValue?: unknown;
  globalValue?: unknown;
}

export function explicitValue(inspected: InspectedValue | undefined): unknown {
  if (inspected === undefined) {
    return undefined;
  }
  if (inspected.workspaceFolderValue !== undefined) {
    return inspected.workspaceFolderValue;
  }
  if (inspected.workspaceValue !== undefined) {
    return inspected.workspaceValue;
  }
  return inspected.globalValue;
}

/**
 * Nests `budgets.small.max_usd = 0.2` into `{budgets: {small: {max_usd: 0.2}}}`.
 * Keys are relative to the `tandem` section; the extension's own settings are left out.
 */
export function settingsTree(entries: Iterable<[string, unknown]>): SettingsTree {
  const tree: SettingsTree = {};
  for (const [key, value] of entries) {
    if (value === undefined || isExtensionSetting(key)) {
      continue;
    }
    const parts = key.split(".");
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        node[part] = {};
      }
      node = node[part] as SettingsTree;
    }
    node[parts[parts.length - 1]] = value;
  }
  return tree;
}
