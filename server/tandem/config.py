"""Every setting Tandem has, as one pydantic model tree, and the loading rules around it.

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
import os
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tandem.ledger.location import is_postgres_url

Tier = Literal["low", "medium", "high"]
ProviderName = Literal["anthropic", "openai", "openai-compatible", "fake"]
SKIP = "skip"

SETTINGS_FILE = "tandem.toml"
PYPROJECT_FILE = "pyproject.toml"

PositiveDecimal = Annotated[Decimal, Field(ge=0, le=Decimal("100000"))]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceOverride(_Section):
    """Dollars per million tokens, for local, private or unknown models."""

    input_per_mtok: PositiveDecimal = Decimal(0)
    output_per_mtok: PositiveDecimal = Decimal(0)
    cache_read_per_mtok: PositiveDecimal | None = None
    cache_write_per_mtok: PositiveDecimal | None = None


class ModelSettings(_Section):
    """One model alias: which provider serves it and how to reach it."""

    provider: ProviderName = Field(description="anthropic | openai | openai-compatible | fake")
    model: str = Field(min_length=1, description="The provider's model name.")
    base_url: str | None = Field(
        default=None, description="Endpoint override, e.g. a local OpenAI-compatible server."
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the key (never the key itself).",
    )
    price: PriceOverride | None = Field(
        default=None, description="Price per million tokens; overrides genai-prices."
    )
    max_output_tokens: int = Field(
        default=4096, ge=64, le=200_000, description="Longest reply a step may ask for."
    )
    timeout_seconds: float = Field(default=120.0, gt=0, le=3600, description="Per-request timeout.")
    fake_replies: str | None = Field(
        default=None,
        description="provider fake only: JSON file of canned replies (relative to the "
        "workspace); for tests and the offline demo.",
    )
    fake_delay_seconds: float = Field(
        default=0.0,
        ge=0,
        le=600,
        description="provider fake only, TEST-ONLY: wait this long before each reply (to "
        "exercise cancellation).",
    )

    @field_validator("api_key_env")
    @classmethod
    def _looks_like_a_variable_name(cls, value: str | None) -> str | None:
        if value is not None and not value.replace("_", "").isalnum():
            raise ValueError("must be the NAME of an environment variable, not a key")
        return value


def _default_models() -> dict[str, ModelSettings]:
    return {
        "strong": ModelSettings(
            provider="anthropic", model="claude-sonnet-4-6", api_key_env="ANTHROPIC_API_KEY"
        ),
        "cheap": ModelSettings(
            provider="anthropic", model="claude-haiku-4-5", api_key_env="ANTHROPIC_API_KEY"
        ),
    }


class TierRoutes(_Section):
    """Model alias (or ``skip``) per risk tier for one step."""

    low: str = Field(description="Alias (or skip) for low-risk work.")
    medium: str = Field(description="Alias (or skip) for medium-risk work.")
    high: str = Field(description="Alias (or skip) for high-risk work.")


class RouteSettings(_Section):
    """The routing table: step x risk tier -> model alias or ``skip``."""

    plan: TierRoutes = TierRoutes(low="cheap", medium="strong", high="strong")
    draft: TierRoutes = TierRoutes(low="cheap", medium="cheap", high="cheap")
    review: TierRoutes = TierRoutes(low="cheap", medium="strong", high="strong")
    skip_review_for_trivial: bool = Field(
        default=True,
        description="Skip review of trivial low-risk edits unless the user asks for it.",
    )
    trivial_max_lines: int = Field(
        default=10, ge=0, le=10_000, description="A low-risk change this small counts as trivial."
    )
    single_model: str | None = Field(
        default=None,
        description="When set, every step runs on this alias (the baseline mode).",
    )


class PathRiskRule(_Section):
    """A glob over repository-relative paths that sets a minimum risk tier."""

    glob: str = Field(min_length=1)
    tier: Tier
    reason: str = Field(min_length=1)


def _default_path_rules() -> list[PathRiskRule]:
    high = [
        ("**/*auth*", "authentication code"),
        ("**/*permission*", "permissions code"),
        ("**/*billing*", "billing code"),
        ("**/*payment*", "payments code"),
        ("**/migrations/**", "database migration"),
        ("**/*migration*", "database migration"),
        ("**/*crypto*", "cryptography"),
        ("**/*secret*", "secrets handling"),
    ]
    medium = [
        ("**/*concurren*", "concurrency"),
        ("**/*thread*", "threads"),
        ("**/*lock*", "locking"),
    ]
    return [PathRiskRule(glob=g, tier="high", reason=r) for g, r in high] + [
        PathRiskRule(glob=g, tier="medium", reason=r) for g, r in medium
    ]


class RiskSettings(_Section):
    path_rules: list[PathRiskRule] = Field(
        default_factory=_default_path_rules,
        description="Globs (glob, tier, reason) that set a minimum tier; defaults cover auth, "
        "permissions, billing, payments, migrations, crypto, secrets, concurrency.",
    )
    content_signals: bool = Field(
        default=True,
        description="Raise risk for SQL, subprocess/eval, crypto, locks found in code.",
    )
    medium_above_lines: int = Field(
        default=80, ge=1, le=1_000_000, description="Lines touched above which risk is medium."
    )
    high_above_lines: int = Field(
        default=400, ge=1, le=1_000_000, description="Lines touched above which risk is high."
    )
    untested_raises_tier: bool = Field(
        default=True, description="A change with no related tests is one tier riskier."
    )


class Budget(_Section):
    max_tokens: int = Field(gt=0, le=100_000_000, description="Tokens a task may spend.")
    max_usd: Decimal = Field(gt=0, le=Decimal("10000"), description="Dollars a task may spend.")


class BudgetSettings(_Section):
    """Per-task budgets by task type, checked before every model call."""

    small: Budget = Budget(max_tokens=40_000, max_usd=Decimal("0.10"))
    bugfix: Budget = Budget(max_tokens=120_000, max_usd=Decimal("0.50"))
    feature: Budget = Budget(max_tokens=300_000, max_usd=Decimal("1.50"))
    risky: Budget = Budget(max_tokens=400_000, max_usd=Decimal("3.00"))
    daily_usd: Decimal | None = Field(
        default=None, gt=0, le=Decimal("100000"), description="Dollars all tasks may spend a day."
    )
    confirm_above_usd: Decimal | None = Field(
        default=None, ge=0, description="Ask before any step estimated above this many dollars."
    )


class ContextSettings(_Section):
    budget_tokens: int = Field(
        default=4000, ge=200, le=1_000_000, description="Token budget of a rendered slice."
    )
    max_related_tests: int = Field(
        default=10, ge=0, le=200, description="Related tests kept in a slice, best first."
    )
    max_file_bytes: int = Field(
        default=2_000_000, ge=1_000, le=100_000_000, description="Larger files are not sliced."
    )


def _default_exclusions() -> list[str]:
    # Secrets first: environment files, private keys and certificates, credential files and
    # secrets folders; then folders that are never source.
    return [
        ".env*",
        ".envrc",
        "*.pem",
        "*.key",
        "*.p12",
        "*.pfx",
        "*.crt",
        "*.cer",
        "*.der",
        "*.p8",
        "*.jks",
        "*.keystore",
        "*.gpg",
        "*.asc",
        "id_rsa*",
        "id_dsa*",
        "id_ecdsa*",
        "id_ed25519*",
        ".ssh/",
        ".netrc",
        "_netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        ".htpasswd",
        ".dockercfg",
        ".docker/config.json",
        ".aws/",
        ".azure/",
        ".kube/config",
        ".gnupg/",
        "credentials*",
        "*.tfvars",
        "*.tfstate",
        "*.tfstate.*",
        "secrets/",
        ".secrets/",
        "*.secret",
        "*.secrets",
        "secrets.json",
        "secrets.y*ml",
        "secrets.toml",
        ".git/",
        ".tandem/",
        "node_modules/",
    ]


class ExclusionSettings(_Section):
    globs: list[str] = Field(
        default_factory=_default_exclusions, description="gitignore-style patterns never sliced."
    )
    use_gitignore: bool = Field(default=True, description="Never slice what .gitignore ignores.")
    use_tandemignore: bool = Field(
        default=True, description="Never slice what .tandemignore lists."
    )


class LedgerSettings(_Section):
    path: str | None = Field(
        default=None,
        description="SQLite file; default is .tandem/ledger.sqlite under the workspace.",
    )
    url: str | None = Field(
        default=None,
        description="postgresql:// URL of a shared team ledger (wins over path; needs the "
        "'postgres' extra). Keep the password in PGPASSWORD or ~/.pgpass, not here.",
    )

    @field_validator("url")
    @classmethod
    def _is_postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not is_postgres_url(value):
            raise ValueError("must be a postgresql:// URL")
        return value


class Settings(_Section):
    """The whole configuration. Every field has a default, so an empty file is valid."""

    models: dict[str, ModelSettings] = Field(
        default_factory=_default_models,
        description="Model aliases. Defaults: strong = claude-sonnet-4-6, cheap = claude-haiku-4-5",
    )
    routes: RouteSettings = RouteSettings()
    risk: RiskSettings = RiskSettings()
    budgets: BudgetSettings = BudgetSettings()
    context: ContextSettings = ContextSettings()
    exclusions: ExclusionSettings = ExclusionSettings()
    ledger: LedgerSettings = LedgerSettings()


SECTIONS: tuple[str, ...] = tuple(Settings.model_fields)


@dataclass(frozen=True)
class SettingsProblem:
    """One bad setting: where it came from, which key, what value, what is allowed."""

    source: str
    key_path: str
    value: str
    allowed: str

    def __str__(self) -> str:
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


def _defaults_as_data() -> dict[str, Any]:
    data: dict[str, Any] = Settings().model_dump(mode="json")
    return data


def _short(value: Any) -> str:
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
                value=_short(detail.get("input")),
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
        problem = SettingsProblem(source, "(top level)", _short(data), "must be a table/object")
        return base, [problem]
    problems: list[SettingsProblem] = []
    merged = copy.deepcopy(base)
    for key, value in data.items():
        if key not in SECTIONS:
            allowed = "unknown section; known sections are " + ", ".join(SECTIONS)
            problems.append(SettingsProblem(source, key, _short(value), allowed))
            continue
        candidate = _deep_merge(base, {key: value})[key]
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
                bad.append(SettingsProblem(source, f"routes.{step}.{tier}", _short(alias), allowed))
    single = settings.routes.single_model
    if single is not None and single not in known:
        bad.append(SettingsProblem(source, "routes.single_model", _short(single), allowed))
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
            problems.append(SettingsProblem(str(path), "(file)", "-", str(error)))
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


def settings_json_schema() -> dict[str, Any]:
    """The JSON Schema committed as ``tandem.schema.json`` for editor validation."""
    schema = Settings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Tandem settings"
    return schema


def render_json_schema() -> str:
    return json.dumps(settings_json_schema(), indent=2, sort_keys=True) + "\n"


def key_is_set(model: ModelSettings, environ: os._Environ[str] | dict[str, str]) -> bool:
    """Whether the model's key variable is present (the key itself is never read out)."""
    if model.api_key_env is None:
        return model.provider in ("fake", "openai-compatible")
    return bool(environ.get(model.api_key_env))


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
        kind = kind.replace("<class '", "").replace("'>", "").replace("tandem.config.", "")
        if instance is not None:
            default = _short(getattr(instance, name))
        elif info.is_required():
            default = "(required)"
        else:
            default = _short(info.get_default(call_default_factory=True))
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
