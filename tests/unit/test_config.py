"""Settings: layering, per-section fallback, precise messages, and the committed schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.config import key_is_set, load_settings, render_json_schema

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_need_no_file() -> None:
    loaded = load_settings()
    assert loaded.problems == ()
    assert {"strong", "cheap"} <= set(loaded.settings.models)


def test_tandem_toml_overrides_defaults_and_partial_tables_merge(tmp_path: Path) -> None:
    (tmp_path / "tandem.toml").write_text('[models.strong]\nmodel = "claude-opus-4-6"\n')
    loaded = load_settings(workspace=tmp_path)
    assert loaded.settings.models["strong"].model == "claude-opus-4-6"
    assert loaded.settings.models["strong"].provider == "anthropic"
    assert str(tmp_path / "tandem.toml") in loaded.sources


def test_an_alias_redefined_for_another_provider_inherits_nothing_from_the_old_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "tandem.toml").write_text(
        '[models.cheap]\nprovider = "openai-compatible"\n'
        'base_url = "http://127.0.0.1:8080/v1"\nmodel = "smollm2"\n'
    )
    loaded = load_settings(workspace=tmp_path)
    cheap = loaded.settings.models["cheap"]
    assert loaded.problems == ()
    assert (cheap.provider, cheap.model, cheap.api_key_env) == (
        "openai-compatible",
        "smollm2",
        None,
    )
    assert key_is_set(cheap, {})  # a local server needs no key variable


def test_an_alias_redefined_for_the_same_provider_keeps_its_other_fields(tmp_path: Path) -> None:
    (tmp_path / "tandem.toml").write_text('[models.cheap]\nprovider = "anthropic"\nmodel = "x"\n')
    cheap = load_settings(workspace=tmp_path).settings.models["cheap"]
    assert (cheap.model, cheap.api_key_env) == ("x", "ANTHROPIC_API_KEY")


def test_pyproject_tool_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.tandem.context]\nbudget_tokens = 8000\n")
    assert load_settings(workspace=tmp_path).settings.context.budget_tokens == 8000


def test_bad_value_names_key_path_value_and_rule_and_keeps_other_sections(
    tmp_path: Path,
) -> None:
    (tmp_path / "tandem.toml").write_text(
        "[budgets.small]\nmax_usd = -1\n[context]\nbudget_tokens = 9000\n"
    )
    loaded = load_settings(workspace=tmp_path)
    (problem,) = loaded.problems
    assert problem.key_path == "budgets.small.max_usd"
    assert problem.value == "-1"
    assert "greater than 0" in problem.allowed
    assert loaded.settings.budgets.small.max_usd > 0
    assert loaded.settings.context.budget_tokens == 9000


def test_route_to_unknown_alias_is_refused() -> None:
    loaded = load_settings(overrides=[("init", {"routes": {"plan": {"high": "gpt9"}}})])
    (problem,) = loaded.problems
    assert problem.key_path == "routes.plan.high"
    assert "cheap" in problem.allowed and "strong" in problem.allowed
    assert loaded.settings.routes.plan.high == "strong"


def test_malformed_toml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "tandem.toml").write_text("[models\n")
    loaded = load_settings(workspace=tmp_path)
    assert "not valid TOML" in str(loaded.problems[0])


@pytest.mark.parametrize("value", ["sk-ant-abc123-secret!", "my key"])
def test_api_key_env_must_be_a_variable_name(value: str) -> None:
    loaded = load_settings(overrides=[("init", {"models": {"strong": {"api_key_env": value}}})])
    assert loaded.problems[0].key_path == "models.strong.api_key_env"


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "tandem.schema.json").read_text()
    assert committed == render_json_schema(), "run: tandem config schema > tandem.schema.json"


def test_readme_settings_reference_is_current() -> None:
    from tandem.config import settings_reference_markdown

    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- settings-reference:start")
    block = readme[readme.index("\n", start) + 1 : readme.index("<!-- settings-reference:end")]
    assert block == settings_reference_markdown(), "regenerate the README settings table"
