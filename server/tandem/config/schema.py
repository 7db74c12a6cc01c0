"""The settings described for editors and readers: the JSON Schema and the README's key table."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from tandem.config.load import shown_value
from tandem.config.models import ModelSettings, Settings

_MODELS_MODULE = f"{Settings.__module__}."
"""Stripped from the types in the key table: a reader wants ``ModelSettings``, not its path."""


def settings_json_schema() -> dict[str, Any]:
    """The JSON Schema committed as ``tandem.schema.json`` for editor validation."""
    schema = Settings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Tandem settings"
    return schema


def render_json_schema() -> str:
    return json.dumps(settings_json_schema(), indent=2, sort_keys=True) + "\n"


def _describe_fields(
    model: type[BaseModel], prefix: str, instance: BaseModel | None = None
) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested = getattr(instance, name) if instance is not None else None
            rows.extend(_describe_fields(annotation, path + ".", nested))
            continue
        kind = str(annotation).replace("typing.", "").replace("decimal.", "")
        kind = kind.replace("<class '", "").replace("'>", "").replace(_MODELS_MODULE, "")
        if instance is not None:
            default = shown_value(getattr(instance, name))
        elif info.is_required():
            default = "(required)"
        else:
            default = shown_value(info.get_default(call_default_factory=True))
        if isinstance(default, str) and len(default) > 40:
            default = "(see schema)"
        rows.append((path, kind, default, info.description or ""))
    return rows


def settings_reference_markdown() -> str:
    """The README's configuration table, generated from the models so it cannot drift."""
    rows = _describe_fields(Settings, "", Settings())
    rows += [
        (f"models.<alias>.{path}", kind, default, text)
        for path, kind, default, text in _describe_fields(ModelSettings, "")
    ]
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for path, kind, default, text in rows:
        cell_kind = kind.replace("|", "\\|")
        cell_text = text.replace("|", "\\|")
        lines.append(f"| `{path}` | `{cell_kind}` | `{default}` | {cell_text} |")
    return "\n".join(lines) + "\n"
