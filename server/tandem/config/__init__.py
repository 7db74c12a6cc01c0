"""Settings, the base every layer may use: the models, how they are loaded, and their schema.

``tandem.config`` is the public surface (the README names it; every layer imports its settings
from here). The models live in :mod:`tandem.config.models`, finding, layering and validating the
sources in :mod:`tandem.config.load`, the JSON Schema and the README's key table in
:mod:`tandem.config.schema`.
"""

from tandem.config.load import LoadedSettings, SettingsProblem, load_settings
from tandem.config.models import (
    SKIP,
    Budget,
    BudgetSettings,
    ContextSettings,
    ExclusionSettings,
    LedgerSettings,
    ModelSettings,
    PathRiskRule,
    PriceOverride,
    ProviderName,
    RiskSettings,
    RouteSettings,
    Settings,
    Tier,
    TierRoutes,
    key_is_set,
)
from tandem.config.schema import render_json_schema, settings_reference_markdown

__all__ = [
    "SKIP",
    "Budget",
    "BudgetSettings",
    "ContextSettings",
    "ExclusionSettings",
    "LedgerSettings",
    "LoadedSettings",
    "ModelSettings",
    "PathRiskRule",
    "PriceOverride",
    "ProviderName",
    "RiskSettings",
    "RouteSettings",
    "Settings",
    "SettingsProblem",
    "Tier",
    "TierRoutes",
    "key_is_set",
    "load_settings",
    "render_json_schema",
    "settings_reference_markdown",
]
