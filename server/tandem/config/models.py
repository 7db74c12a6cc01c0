"""Every setting Tandem has, as one pydantic model tree: each field with its default and bounds.

Every field has a default, so an empty settings file is valid. :mod:`tandem.config.load` lays
files and editor settings over these defaults; :mod:`tandem.config.schema` describes them.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tandem.ledger.location import is_postgres_url

Tier = Literal["low", "medium", "high"]
ProviderName = Literal["anthropic", "openai", "openai-compatible", "fake"]
StructuredOutput = Literal["auto", "json_schema", "json_object", "tools", "prompt"]
SKIP = "skip"

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
    structured_output: StructuredOutput = Field(
        default="auto",
        description="openai-compatible only: how the reply is held to the schema: json_schema, "
        "json_object, tools or prompt; auto tries the strongest first, falls back on a refusal "
        "and remembers what worked per server and model.",
    )
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

    @model_validator(mode="after")
    def _structured_output_is_for_compatible_servers(self) -> ModelSettings:
        if self.structured_output != "auto" and self.provider in ("anthropic", "openai"):
            raise ValueError(
                f"structured_output applies to openai-compatible models only ({self.provider} "
                "always uses its own structured output): remove it or set it to auto"
            )
        return self

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


class AdviceSettings(_Section):
    """Thresholds of ``tandem advise``: when the ledger's evidence is enough to suggest a route."""

    min_runs: int = Field(
        default=10,
        ge=1,
        le=100_000,
        description="Runs of a step in a tier needed before any advice about it; below this "
        "the advice says 'not enough evidence yet'.",
    )
    skip_review_max_catch_pct: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="Suggest skipping a tier's review when at most this share of its runs "
        "caught something or changed the outcome (never for a tier with defects after merge).",
    )
    strong_draft_blocking_pct: float = Field(
        default=50.0,
        ge=0,
        le=100,
        description="Suggest drafting a tier on the strong model when the drafts of more than "
        "this share of its tasks drew blocking review findings.",
    )
    strong_alias: str = Field(default="strong", description="The model alias advice calls strong.")
    cheap_alias: str = Field(default="cheap", description="The model alias advice calls cheap.")


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
    advice: AdviceSettings = AdviceSettings()


SECTIONS: tuple[str, ...] = tuple(Settings.model_fields)


def key_is_set(model: ModelSettings, environ: os._Environ[str] | dict[str, str]) -> bool:
    """Whether the model's key variable is present (the key itself is never read out)."""
    if model.api_key_env is None:
        return model.provider in ("fake", "openai-compatible")
    return bool(environ.get(model.api_key_env))
