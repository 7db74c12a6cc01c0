"""The VS Code extension's settings stay in step with the settings models.

`editors/vscode/package.json` is generated from `tandem.schema.json` (the extension's own
node:test checks the whole block); this test catches the common drift in the Python gate too:
a setting added, removed or given a new default without regenerating the extension's settings.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tandem.config import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_JSON = ROOT / "editors" / "vscode" / "package.json"
REGENERATE = "stale: run `cd editors/vscode && npm run generate-settings`"
EXTENSION_OWN = ("tandem.server.", "tandem.statusBar.", "tandem.ratingPrompt.")


def leaves(model: BaseModel, prefix: str) -> dict[str, Any]:
    """Every setting VS Code shows: nested sections flattened, maps and lists kept whole."""
    found: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}.{name}"
        if isinstance(value, BaseModel):
            found.update(leaves(value, key))
        else:
            found[key] = value
    return found


def contributed() -> dict[str, dict[str, Any]]:
    manifest = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    properties: dict[str, dict[str, Any]] = manifest["contributes"]["configuration"]["properties"]
    return {key: value for key, value in properties.items() if not key.startswith(EXTENSION_OWN)}


def test_every_setting_is_contributed_and_nothing_else() -> None:
    assert set(contributed()) == set(leaves(Settings(), "tandem")), REGENERATE


def test_contributed_defaults_are_the_built_in_defaults() -> None:
    properties = contributed()
    for key, value in leaves(Settings(), "tandem").items():
        if key == "tandem.models":
            continue  # a map of aliases: no VS Code default, the server's aliases apply
        expected = float(value) if isinstance(value, Decimal) else value
        if isinstance(expected, BaseModel | list | tuple):
            expected = json.loads(json.dumps(to_json(expected)))
        assert properties[key]["default"] == expected, f"{key}: {REGENERATE}"


def to_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value
