"""Consent: no model call without an explicit user action, no background calls, and a step
estimated above ``budgets.confirm_above_usd`` runs only on the user's yes."""

from __future__ import annotations

import ast
import copy
import io
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flow_doubles import (
    REQUEST,
    ExampleFlow,
    ScriptedProvider,
    example_flow,
    example_replies,
    example_repo,
    example_task,
    priced_settings,
)

from tandem.cli import main
from tandem.commands.flow_common import consent_from_args
from tandem.config import ModelSettings, Settings
from tandem.flow.gate import needs_confirmation
from tandem.flow.run import run_flow
from tandem.values import StepEstimate

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "tandem"


class ChargingProvider(ScriptedProvider):
    """A scripted provider that stands for a real, billed model (not the fake one)."""

    is_fake = False


def _settings(threshold: str | None, base: Settings | None = None) -> Settings:
    settings = base or priced_settings()
    limit = None if threshold is None else Decimal(threshold)
    budgets = settings.budgets.model_copy(update={"confirm_above_usd": limit})
    return settings.model_copy(update={"budgets": budgets})


def _flow(
    tmp_path: Path, settings: Settings, confirm: Any = None, *, fake: bool = False
) -> ExampleFlow:
    """The example flow, its replies billed like a real model's unless ``fake``."""
    replies = copy.deepcopy(example_replies())
    provider = ScriptedProvider(replies) if fake else ChargingProvider(replies)
    return example_flow(tmp_path, provider, settings=settings, confirm=confirm)


def _estimate(usd_max: str | None) -> StepEstimate:
    return StepEstimate(
        step="plan",
        alias="strong",
        provider="openai",
        model="m",
        input_tokens=10,
        output_tokens_typical=1,
        output_tokens_max=2,
        usd_typical=None if usd_max is None else Decimal(usd_max),
        usd_max=None if usd_max is None else Decimal(usd_max),
    )


def test_the_threshold_compares_the_most_a_step_can_cost() -> None:
    assert not needs_confirmation(_estimate("5"), None)
    assert not needs_confirmation(_estimate("0.05"), Decimal("0.10"))
    assert not needs_confirmation(_estimate("0.10"), Decimal("0.10"))
    assert needs_confirmation(_estimate("0.11"), Decimal("0.10"))
    assert needs_confirmation(_estimate(None), Decimal("0.10"))  # unpriced: unknown, so ask


async def test_with_nobody_to_ask_a_step_above_the_threshold_is_not_sent(tmp_path: Path) -> None:
    env, recorder, provider, _ = _flow(tmp_path, _settings("0.0001"))
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert provider.requests == [] and recorder.records == []
    assert result.status == "stopped"
    assert "not sent" in result.message and "budgets.confirm_above_usd" in result.message
    assert "--yes" in result.message
    assert [(s.step, s.outcome) for s in result.steps] == [("plan", "cancelled")]


async def test_the_user_is_asked_with_the_price_and_a_no_sends_nothing(tmp_path: Path) -> None:
    questions: list[str] = []

    def decline(question: str) -> bool:
        questions.append(question)
        return False

    env, _, provider, _ = _flow(tmp_path, _settings("0.0001"), decline)
    result = await run_flow(env, example_task(env), approve=True)
    assert provider.requests == []
    (question,) = questions
    assert question.startswith("plan on ") and "up to $" in question
    assert question.endswith("Send it?")
    assert result.status == "stopped" and "declined" in result.message


async def test_a_yes_sends_each_step_and_an_async_confirm_works_too(tmp_path: Path) -> None:
    questions: list[str] = []

    async def accept(question: str) -> bool:
        questions.append(question)
        return True

    env, _, provider, _ = _flow(tmp_path, _settings("0.0001"), accept)
    result = await run_flow(env, example_task(env), approve=True)
    assert result.status == "done"
    assert len(questions) == len(provider.requests) == 5


async def test_after_a_no_the_task_resumes_and_asks_again(tmp_path: Path) -> None:
    answers = [False, True, True, True, True, True]
    env, _, provider, _ = _flow(tmp_path, _settings("0.0001"), lambda question: answers.pop(0))
    task_id = example_task(env)
    assert (await run_flow(env, task_id, approve=True)).status == "stopped"
    assert (await run_flow(env, task_id, approve=True)).status == "done"
    assert len(provider.requests) == 5 and answers == []


async def test_below_the_threshold_nobody_is_asked(tmp_path: Path) -> None:
    asked: list[str] = []
    env, _, _, _ = _flow(tmp_path, _settings("100"), asked.append)
    assert (await run_flow(env, example_task(env), approve=True)).status == "done"
    assert asked == []


async def test_an_unpriced_model_is_asked_about(tmp_path: Path) -> None:
    asked: list[str] = []
    unpriced = ModelSettings(provider="openai-compatible", model="local-coder", base_url="http://x")
    base = priced_settings()
    models = {**base.models, "strong": unpriced, "cheap": unpriced}
    settings = _settings("1", base.model_copy(update={"models": models}))
    env, _, provider, _ = _flow(tmp_path, settings, lambda q: asked.append(q) or False)
    await run_flow(env, example_task(env), approve=True)
    assert provider.requests == []
    assert "unknown price" in asked[0]


async def test_the_fake_provider_costs_nothing_and_needs_no_consent(tmp_path: Path) -> None:
    env, _, provider, _ = _flow(tmp_path, _settings("0"), None, fake=True)
    assert (await run_flow(env, example_task(env), approve=True)).status == "done"
    assert len(provider.requests) == 5


def test_the_cli_refuses_non_interactively_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = example_repo(tmp_path)
    (repo / "tandem.toml").write_text("[budgets]\nconfirm_above_usd = 0\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-not-used")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-used")
    args = ["plan", "--repo", str(repo), "--file", "app/handlers.py", "--lines", "10-14"]
    assert main([*args, "--request", REQUEST]) == 1
    error = capsys.readouterr().err
    assert "not sent" in error and "confirm_above_usd" in error and "--yes" in error


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_consent_is_yes_with_the_flag_asks_a_terminal_and_else_cannot_ask(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    confirm = consent_from_args(argparse.Namespace(yes=True))
    assert confirm is not None and confirm("send?") is True
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert consent_from_args(argparse.Namespace(yes=False)) is None
    monkeypatch.setattr(sys, "stdin", _Terminal("y\nno\n"))
    ask = consent_from_args(argparse.Namespace(yes=False))
    assert ask is not None
    assert ask("plan on strong ... Send it?") is True
    assert ask("draft on cheap ... Send it?") is False
    assert ask("review ... Send it?") is False  # end of input is a no
    assert "Send it? [y/N]" in capsys.readouterr().err


# ----- no background calls ---------------------------------------------------------------------

STEP_RUNNERS = {"run_flow", "plan_step", "draft_step", "review_step", "call_step"}
USER_ACTIONS = {
    "flow/run.py": "the flow itself",
    "flow/steps.py": "the flow's steps (each run by the flow or one of the commands below)",
    "commands/plan_cmd.py": "tandem plan",
    "commands/draft_cmd.py": "tandem draft TASK",
    "commands/review_cmd.py": "tandem review",
    "commands/run_cmd.py": "tandem run",
    "trial/runner.py": "tandem trial TASKFILE",
    "trial/demo.py": "tandem demo (FAKE provider only)",
}


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return names


def test_model_calls_start_only_from_commands_the_user_runs() -> None:
    """Every module that can start a model step, with the user action that starts it. An editor
    feature may run the flow only from an explicit command (workspace/executeCommand)."""
    starting = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        used = _names_used(path) & STEP_RUNNERS
        if not used:
            continue
        explicit = relative in USER_ACTIONS
        if relative.startswith("lsp/"):
            text = path.read_text(encoding="utf-8")
            # pygls registers workspace/executeCommand handlers with @server.command
            explicit = any(
                mark in text
                for mark in (
                    "WORKSPACE_EXECUTE_COMMAND",
                    "workspace/executeCommand",
                    "@server.command(",
                )
            )
        starting[relative] = explicit
    assert starting and all(starting.values()), starting


def test_only_the_flow_calls_a_provider() -> None:
    callers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("providers/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "complete"
            ):
                callers.append(relative)
    assert callers == ["flow/model_call.py"]


def test_demo_uses_only_the_fake_provider() -> None:
    text = (PACKAGE / "trial" / "demo.py").read_text(encoding="utf-8")
    assert "FakeProvider" in text and "build_provider" not in text


def test_an_unattended_trial_sends_a_step_above_the_threshold_only_with_yes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_trial import example_trial

    from tandem.providers import registry

    built: list[ChargingProvider] = []

    def charging(alias: str, model: Any, environ: Any, **options: Any) -> ChargingProvider:
        built.append(ChargingProvider(copy.deepcopy(example_replies())))
        return built[-1]

    monkeypatch.setattr(registry, "build_provider", charging)
    models = '[models.strong]\nprovider = "openai"\nmodel = "gpt-5"\n'
    models += '[models.cheap]\nprovider = "openai"\nmodel = "gpt-5-mini"\n'
    task = example_trial(tmp_path, models + "[budgets]\nconfirm_above_usd = 0\n")
    args = ["trial", str(task), "--repeat", "1", "--modes", "split", "--format", "json"]
    args += ["--ledger", str(tmp_path / "ledger.sqlite")]
    assert main(args) == 0
    error = capsys.readouterr().err
    assert "stopped" in error and "not sent" in error and "--yes" in error
    assert all(provider.requests == [] for provider in built)  # nothing was sent
    assert main([*args, "--yes"]) == 0
    assert sum(len(provider.requests) for provider in built) >= 3
