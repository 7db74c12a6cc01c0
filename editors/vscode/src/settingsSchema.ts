/**
 * Turns the server's settings JSON Schema (`tandem.schema.json`) into VS Code's
 * `contributes.configuration`, and adds the extension's own settings (how to start the server,
 * the status bar).
 *
 * Pure: no `vscode` import, so the generator script and the unit tests use it directly.
 * Nested sections are flattened to one VS Code setting per leaf (`tandem.budgets.small.max_usd`),
 * the same keys as the README's settings reference; maps and lists stay whole settings.
 */

export type JsonSchema = { [key: string]: unknown };

export interface ConfigurationContribution {
  title: string;
  properties: { [key: string]: JsonSchema };
}

export const SECTION = "tandem";

/** Settings that belong to the extension; never sent to the server. */
export const EXTENSION_SETTINGS: { [key: string]: JsonSchema } = {
  "tandem.server.path": {
    type: "string",
    default: "",
    scope: "machine-overridable",
    markdownDescription:
      "Path to the `tandem` executable (relative paths are resolved against the workspace folder). " +
      "Empty: use `tandem.server.venv`, then a `.venv` or `venv` in the workspace, then `PATH`.",
  },
  "tandem.server.venv": {
    type: "string",
    default: "",
    scope: "machine-overridable",
    markdownDescription:
      "A Python virtual environment that has Tandem installed (`pip install tandem-lsp`); " +
      "the extension runs its `bin/tandem serve`.",
  },
  "tandem.statusBar.pollSeconds": {
    type: "number",
    default: 5,
    minimum: 0,
    maximum: 3600,
    markdownDescription:
      "How often the status bar asks the server for today's spend and the current task's budget " +
      "(`tandem.status`); 0 turns the status bar off.",
  },
  "tandem.ratingPrompt.enabled": {
    type: "boolean",
    default: true,
    markdownDescription:
      "After a draft is applied or discarded, ask once (a notification with buttons, never a " +
      "dialog) for a 1-5 rating and the minutes spent cleaning it up (`tandem.rateTask`).",
  },
};

/** Keys (after `tandem.`) that are the extension's own and so never part of the server tree. */
export function isExtensionSetting(key: string): boolean {
  return Object.prototype.hasOwnProperty.call(EXTENSION_SETTINGS, `${SECTION}.${key}`);
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Follows a local `#/$defs/Name` reference; keeps sibling keys (pydantic puts `default` there). */
function resolve(node: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = node["$ref"];
  if (typeof ref !== "string") {
    return node;
  }
  const prefix = "#/$defs/";
  if (!ref.startsWith(prefix)) {
    throw new Error(`unsupported $ref ${ref}`);
  }
  const defs = root["$defs"];
  const target = isObject(defs) ? defs[ref.slice(prefix.length)] : undefined;
  if (!isObject(target)) {
    throw new Error(`unresolved $ref ${ref}`);
  }
  const { $ref: _ignored, ...siblings } = node;
  return { ...resolve(target, root), ...siblings };
}

/**
 * A schema VS Code can show and validate on its own: references inlined, pydantic's titles
 * dropped, and decimals (pydantic writes `anyOf: [number, string]` so "0.50" stays exact)
 * offered as numbers, which the server accepts too.
 */
export function inline(node: JsonSchema, root: JsonSchema): JsonSchema {
  const resolved = resolve(node, root);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(resolved)) {
    if (key === "title") {
      continue;
    }
    if (key === "anyOf" && Array.isArray(value)) {
      Object.assign(out, simplifyAnyOf(value as JsonSchema[], root));
    } else if (key === "properties" && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [name, inline(child as JsonSchema, root)]),
      );
    } else if ((key === "items" || key === "additionalProperties") && isObject(value)) {
      out[key] = inline(value, root);
    } else {
      out[key] = value;
    }
  }
  if (out.type === "number" || (Array.isArray(out.type) && out.type.includes("number"))) {
    out.default = decimalDefault(out.default);
  }
  return out;
}

function decimalDefault(value: unknown): unknown {
  return typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

function simplifyAnyOf(branches: JsonSchema[], root: JsonSchema): JsonSchema {
  const inlined = branches.map((branch) => inline(branch, root));
  const nullable = inlined.some((branch) => branch.type === "null");
  const hasNumber = inlined.some((branch) => branch.type === "number");
  const kept = inlined.filter(
    (branch) => branch.type !== "null" && !(hasNumber && branch.type === "string"),
  );
  if (kept.length !== 1) {
    return { anyOf: inlined };
  }
  const single = { ...kept[0] };
  if (nullable && typeof single.type === "string") {
    single.type = [single.type, "null"];
  }
  return single;
}

/** An object with fixed keys is flattened into one setting per key; anything else is a leaf. */
function isSection(node: JsonSchema): boolean {
  return node.type === "object" && isObject(node.properties) && !isObject(node.additionalProperties);
}

function flatten(
  node: JsonSchema,
  key: string,
  inheritedDefault: unknown,
  out: { [key: string]: JsonSchema },
): void {
  if (isSection(node)) {
    const ownDefault = node.default !== undefined ? node.default : inheritedDefault;
    for (const [name, child] of Object.entries(node.properties as JsonSchema)) {
      const childDefault = isObject(ownDefault) ? ownDefault[name] : undefined;
      flatten(child as JsonSchema, `${key}.${name}`, childDefault, out);
    }
    return;
  }
  const leaf: JsonSchema = { ...node };
  if (leaf.default === undefined && inheritedDefault !== undefined) {
    leaf.default = inheritedDefault;
  }
  if (leaf.type === "number" || (Array.isArray(leaf.type) && leaf.type.includes("number"))) {
    leaf.default = decimalDefault(leaf.default);
  }
  if (typeof leaf.description === "string") {
    leaf.markdownDescription =
      `${leaf.description} Sent to the server only when set here; ` +
      "otherwise `tandem.toml` or the built-in default applies.";
    delete leaf.description;
  }
  out[key] = leaf;
}

/** The whole `contributes.configuration` block of package.json. */
export function configurationFromSchema(schema: JsonSchema): ConfigurationContribution {
  const properties: { [key: string]: JsonSchema } = { ...EXTENSION_SETTINGS };
  const sections = schema.properties;
  if (!isObject(sections)) {
    throw new Error("the settings schema has no top-level properties");
  }
  for (const [name, section] of Object.entries(sections)) {
    const inlined = inline(section as JsonSchema, schema);
    flatten(inlined, `${SECTION}.${name}`, inlined.default, properties);
  }
  return { title: "Tandem", properties };
}
