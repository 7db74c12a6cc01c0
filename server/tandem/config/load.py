"""Loading settings: find the settings file, lay each source over the defaults, report problems.

Settings come from, in increasing precedence: built-in defaults, a settings file (``tandem.toml``
at the workspace root, else ``[tool.tandem]`` in ``pyproject.toml``, or an explicit ``--config``
file), LSP ``initializationOptions`` and ``workspace/didChangeConfiguration``. Each top-level
section is validated on its own: a bad value produces one message naming the key path, the value
and what is allowed, and that section falls back to its defaults. Loading never raises for bad
content, so neither the CLI nor the server can die of a bad setting.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tandem.config.models import SECTIONS, SKIP, Settings, TierRoutes

SETTINGS_FILE = "tandem.toml"
FILE_PROBLEM = "(file)"
"""The key path of a problem with the settings file as a whole (unreadable, not TOML)."""
PYPROJECT_FILE = "pyproject.toml"


@dataclass(frozen=True)
class SettingsProblem:
    """One bad setting: where it came from, which key, what value, what is allowed."""

    source: str
    key_path: str
    value: str
    allowed: str

    def __str__(self) -> str:
        if self.key_path == FILE_PROBLEM:
            return f"{self.source}: {self.allowed}"
        if self.allowed.startswith("unknown"):
            return f"{self.source}: {self.key_path} = {self.value} is ignored: {self.allowed}"
        return (
            f"{self.source}: {self.key_path} = {self.value} is invalid: {self.allowed}; "
            f"'{self.key_path.split('.')[0]}' keeps its previous value"
        )


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    sources: tuple[str, ...]
    problems: tuple[SettingsProblem, ...] = field(default=())


class SettingsFileError(Exception):
    """A settings file that cannot be read or parsed at all."""


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _laid_over(base: dict[str, Any], key: str, value: Any) -> Any:
    """Section ``key`` of ``base`` with ``value`` laid over it.

    A model alias redefined with another provider starts afresh: the fields it would inherit
    (a key variable, a base URL, a price) belong to the provider it replaces.
    """
    candidate = _deep_merge(base, {key: value})[key]
    if key == "models" and isinstance(value, dict) and isinstance(candidate, dict):
        inherited = base.get("models", {})
        for alias, table in value.items():
            was = inherited.get(alias)
            if (
                isinstance(table, dict)
                and isinstance(was, dict)
                and "provider" in table
                and table["provider"] != was.get("provider")
            ):
                candidate[alias] = copy.deepcopy(table)
    return candidate


def _defaults_as_data() -> dict[str, Any]:
    data: dict[str, Any] = Settings().model_dump(mode="json")
    return data


def shown_value(value: Any) -> str:
    """A value as a message or table shows it: JSON, cut to 60 characters."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _problems_from(error: ValidationError, source: str) -> list[SettingsProblem]:
    problems = []
    for detail in error.errors():
        loc = [str(part) for part in detail["loc"]]
        allowed = detail["msg"]
        if detail["type"] == "extra_forbidden":
            allowed = "unknown setting"
        problems.append(
            SettingsProblem(
                source=source,
                key_path=".".join(loc),
                value=shown_value(detail.get("input")),
                allowed=allowed,
            )
        )
    return problems


def validate_settings(
    data: Any, source: str, base: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[SettingsProblem]]:
    """Validate ``data`` laid over ``base`` section by section.

    Returns the merged data with every bad section left as it was in ``base``, and the problems.
    """
    base = base if base is not None else _defaults_as_data()
    if not isinstance(data, dict):
        problem = SettingsProblem(
            source, "(top level)", shown_value(data), "must be a table/object"
        )
        return base, [problem]
    problems: list[SettingsProblem] = []
    merged = copy.deepcopy(base)
    for key, value in data.items():
        if key not in SECTIONS:
            allowed = "unknown section; known sections are " + ", ".join(SECTIONS)
            problems.append(SettingsProblem(source, key, shown_value(value), allowed))
            continue
        candidate = _laid_over(base, key, value)
        try:
            Settings.model_validate({key: candidate})
        except ValidationError as error:
            problems.extend(_problems_from(error, source))
            continue
        merged[key] = candidate
    return merged, problems


def _route_alias_problems(settings: Settings, source: str) -> list[SettingsProblem]:
    known = set(settings.models)
    allowed = "must be one of the model aliases (" + ", ".join(sorted(known)) + ") or 'skip'"
    bad: list[SettingsProblem] = []
    for step in ("plan", "draft", "review"):
        table: TierRoutes = getattr(settings.routes, step)
        for tier in ("low", "medium", "high"):
            alias = getattr(table, tier)
            if alias != SKIP and alias not in known:
                bad.append(
                    SettingsProblem(source, f"routes.{step}.{tier}", shown_value(alias), allowed)
                )
    single = settings.routes.single_model
    if single is not None and single not in known:
        bad.append(SettingsProblem(source, "routes.single_model", shown_value(single), allowed))
    return bad


def read_settings_file(path: Path) -> dict[str, Any]:
    """Read a TOML settings file; ``[tool.tandem]`` when it is a pyproject.toml."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SettingsFileError(f"{path}: cannot read settings file: {error.strerror}") from error
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise SettingsFileError(f"{path}: settings file is not valid UTF-8") from error
    except tomllib.TOMLDecodeError as error:
        raise SettingsFileError(f"{path}: not valid TOML: {error}") from error
    if path.name == PYPROJECT_FILE:
        tool = data.get("tool", {})
        section = tool.get("tandem", {}) if isinstance(tool, dict) else {}
        return section if isinstance(section, dict) else {}
    return data


def find_settings_file(workspace: Path) -> Path | None:
    """``tandem.toml`` at the workspace root, else a pyproject.toml with ``[tool.tandem]``."""
    candidate = workspace / SETTINGS_FILE
    if candidate.is_file():
        return candidate
    pyproject = workspace / PYPROJECT_FILE
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        tool = data.get("tool")
        if isinstance(tool, dict) and "tandem" in tool:
            return pyproject
    return None


def load_settings(
    workspace: Path | None = None,
    config_file: Path | None = None,
    overrides: list[tuple[str, Any]] | None = None,
) -> LoadedSettings:
    """Defaults, then the settings file, then each (source name, data) override in order."""
    sources = ["built-in defaults"]
    problems: list[SettingsProblem] = []
    data = _defaults_as_data()
    path = config_file or (find_settings_file(workspace) if workspace else None)
    layers: list[tuple[str, Any]] = []
    if path is not None:
        try:
            layers.append((str(path), read_settings_file(path)))
        except SettingsFileError as error:
            problems.append(SettingsProblem(str(path), FILE_PROBLEM, "-", str(error)))
    layers.extend(overrides or [])
    settings = Settings.model_validate(data)
    for source, layer in layers:
        candidate, layer_problems = validate_settings(layer, source, data)
        problems.extend(layer_problems)
        merged = Settings.model_validate(candidate)
        alias_problems = _route_alias_problems(merged, source)
        if alias_problems:
            problems.extend(alias_problems)
            candidate["routes"] = data["routes"]
            merged = Settings.model_validate(candidate)
        data, settings = candidate, merged
        sources.append(source)
    return LoadedSettings(settings=settings, sources=tuple(sources), problems=tuple(problems))
