"""Trials: task files, modes, test commands, copies per run, records under one trial id.

The flow is injected as a runner; here ``scripted_runner`` is a clearly named test double that
edits the copy of the repository and records one step the way the flow would.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from factories import step_record
from tandem.ledger.sqlite import SqliteLedger
from tandem.ledger.totals import StepFilter
from tandem.reports.scorecards import build_report
from tandem.trial.runs import (
    RunOutcome,
    RunRequest,
    TrialInputError,
    find_test_command_problem,
    load_task_file,
    parse_modes,
    run_trial,
)
from tandem.values import Usage

BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"


def make_task(tmp_path: Path, test_command: str | None = None) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "calc.py").write_text(BUGGY)
    (repo / "test_calc.py").write_text(TEST)
    lines = ['request = "make add return the sum"', 'repo = "repo"', 'file = "calc.py"', "line = 2"]
    if test_command is not None:
        lines.append(f"test_command = {test_command!r}")
    task = tmp_path / "task.toml"
    task.write_text("\n".join(lines) + "\n")
    return task


async def scripted_runner(request: RunRequest) -> RunOutcome:
    """Test double for the flow: the strong model 'fixes' the bug, the cheap one does not."""
    if request.mode != "cheap":
        (request.workdir / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    cost = {"split": Decimal("0.01"), "strong": Decimal("0.04"), "cheap": Decimal("0.002")}
    request.recorder.record_step(
        step_record(
            request.task_id,
            provider="fake",
            model="scripted",
            alias=request.mode,
            risk_tier="low",
            usage=Usage(input_tokens=100, output_tokens=20),
            cost=cost[request.mode],
            started_at=datetime.now(UTC),
        )
    )
    return RunOutcome(request.task_id, "done", "scripted")


# The task's own test, kept light: a Python one-liner rather than a pytest start-up per run.
PYTEST = f"{sys.executable} -c 'from calc import add; assert add(2, 2) == 4'"


async def test_trial_runs_each_mode_n_times_on_fresh_copies_and_reports_side_by_side(
    tmp_path: Path,
) -> None:
    loaded = load_task_file(make_task(tmp_path, PYTEST))
    with SqliteLedger(tmp_path / "ledger.sqlite") as ledger:
        result = await run_trial(
            loaded,
            modes=("split", "strong", "cheap"),
            repeat=2,
            runner=scripted_runner,
            ledger=ledger,
            trial_id="T1",
        )
        assert [(r.mode, r.run_index) for r in result.runs] == [
            ("split", 1),
            ("strong", 1),
            ("cheap", 1),
            ("split", 2),
            ("strong", 2),
            ("cheap", 2),
        ]
        passed = {(r.mode, r.run_index): r.test_passed for r in result.runs}
        assert passed[("split", 1)] is True and passed[("cheap", 2)] is False
        steps = ledger.steps(trial_id="T1")
        assert {s.record.mode for s in steps} == {"split", "strong", "cheap"}
        assert all(s.record.trial_id == "T1" for s in steps)
        totals = ledger.report_totals(StepFilter(trial_id="T1"))
        report = build_report(totals, ledger.task_notes(), ledger.trial_runs("T1"))
    modes = {row["mode"]: row for row in report.table("modes").records()}
    assert modes["split"]["tasks"] == 2
    assert modes["split"]["cost_per_task_usd"] == Decimal("0.01")
    assert modes["split"]["vs_strong_pct"] == -75.0
    assert modes["cheap"]["tests_passed_pct"] == 0.0
    assert modes["strong"]["tests_passed_pct"] == 100.0
    # The original repository is never touched by the runs.
    assert (tmp_path / "repo" / "calc.py").read_text() == BUGGY


async def test_missing_test_command_is_refused_before_any_run(tmp_path: Path) -> None:
    loaded = load_task_file(make_task(tmp_path, "no-such-test-runner --all"))
    calls: list[RunRequest] = []

    async def runner(request: RunRequest) -> RunOutcome:
        calls.append(request)
        return RunOutcome(request.task_id, "done", "")

    with (
        SqliteLedger(tmp_path / "l.sqlite") as ledger,
        pytest.raises(TrialInputError, match="PATH"),
    ):
        await run_trial(loaded, modes=("split",), repeat=1, runner=runner, ledger=ledger)
    assert calls == []


async def test_trial_without_test_command_records_unknown_pass(tmp_path: Path) -> None:
    loaded = load_task_file(make_task(tmp_path))
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        result = await run_trial(
            loaded, modes=("split",), repeat=1, runner=scripted_runner, ledger=ledger
        )
    assert result.runs[0].test_passed is None
    assert result.trial_id.startswith("trial-")


def test_test_command_checks() -> None:
    here = Path.cwd()
    assert find_test_command_problem(None, here) is None
    assert find_test_command_problem(f"{sys.executable} -V", here) is None
    assert "does not exist" in (find_test_command_problem("./nope.sh", here) or "")
    assert "cannot be parsed" in (find_test_command_problem("pytest 'unclosed", here) or "")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("request = ", "not a valid TOML"),
        ('file = "calc.py"\nline = 1\nrepo = "repo"', "request"),
        ('request = "x"\nfile = "calc.py"\nrepo = "repo"', "anchor"),
        ('request = "x"\nfile = "missing.py"\nline = 1\nrepo = "repo"', "does not exist"),
        ('request = "x"\nfile = "calc.py"\nline = 1\nrepo = "nowhere"', "not a directory"),
        ('request = "x"\nfile = "calc.py"\nline = 1\nrepo = "repo"\ncolour = 1', "colour"),
    ],
)
def test_bad_task_files_get_clear_messages(tmp_path: Path, content: str, message: str) -> None:
    make_task(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    with pytest.raises(TrialInputError, match=message):
        load_task_file(bad)


def test_parse_modes() -> None:
    assert parse_modes("cheap,split") == ("split", "cheap")
    with pytest.raises(TrialInputError, match="split, strong, cheap"):
        parse_modes("split,turbo")


def test_cli_trial_with_a_missing_test_command_exits_2_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tandem.cli import main

    task = make_task(tmp_path, "no-such-test-runner")
    assert main(["trial", str(task), "--ledger", str(tmp_path / "l.sqlite")]) == 2
    assert "no-such-test-runner" in capsys.readouterr().err
    assert not (tmp_path / "l.sqlite").exists()


def test_cli_trial_rejects_bad_modes_and_repeat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tandem.cli import main

    task = str(make_task(tmp_path))
    assert main(["trial", task, "--modes", "fast"]) == 2
    assert main(["trial", task, "--repeat", "0"]) == 2
    assert "--repeat" in capsys.readouterr().err


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "projects_api"
FAKE_MODELS = """
[models.strong]
provider = "fake"
model = "fake-strong"

[models.cheap]
provider = "fake"
model = "fake-cheap"
"""


def example_trial(tmp_path: Path, models: str = FAKE_MODELS) -> Path:
    import shutil

    repo = tmp_path / "projects_api"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
    (repo / "tandem.toml").write_text(models)
    task = repo / "trial.toml"
    test_command = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
    task.write_text(
        'request = "add an optional archived filter to GET /projects, with tests"\n'
        'file = "app/handlers.py"\nsymbol = "get_projects"\ntask_type = "feature"\n'
        f'test_command = {test_command!r}\nfake_replies = "fake_replies.json"\n'
    )
    return task


def test_cli_trial_runs_the_real_flow_on_the_example_with_fake_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tandem.cli import main

    task = example_trial(tmp_path)
    ledger_path = tmp_path / "ledger.sqlite"
    code = main(
        [
            "trial",
            str(task),
            "--repeat",
            "1",
            "--modes",
            "split,strong",
            "--trial-id",
            "E2E",
            "--ledger",
            str(ledger_path),
            "--format",
            "json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    import json

    modes = {row["mode"]: row for row in json.loads(captured.out)["tables"]["modes"]}
    assert set(modes) == {"split", "strong"}
    assert modes["split"]["tests_passed_pct"] == 100.0
    with SqliteLedger(ledger_path) as ledger:
        runs = ledger.trial_runs("E2E")
        steps = ledger.steps(trial_id="E2E")
    assert [(r.mode, r.test_passed) for r in runs] == [("split", True), ("strong", True)]
    assert {s.record.step for s in steps} == {"plan", "draft", "review"}
    assert all(s.record.provider == "fake" for s in steps)  # labelled: no model was called
    strong_aliases = {s.record.alias for s in steps if s.record.mode == "strong"}
    assert strong_aliases == {"strong"}  # the baseline ran every step on one alias
    # The example itself is untouched: each run worked on its own copy.
    original = (EXAMPLE / "app" / "queries.py").read_text()
    assert (task.parent / "app" / "queries.py").read_text() == original


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        (None, "fake_replies 'missing.json' is not a file"),
        ("{not json", "fake_replies.json"),
    ],
)
def test_cli_trial_with_unusable_fake_replies_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], replies: str | None, message: str
) -> None:
    from tandem.cli import main

    task = example_trial(tmp_path)
    if replies is None:
        task.write_text(task.read_text().replace('"fake_replies.json"', '"missing.json"'))
    else:
        (task.parent / "fake_replies.json").write_text(replies)
    code = main(["trial", str(task), "--repeat", "1", "--ledger", str(tmp_path / "l.sqlite")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("tandem: ") and message in line]


def test_a_baseline_needs_its_alias() -> None:
    from tandem.config import ModelSettings, Settings
    from tandem.trial.runner import settings_for_mode

    settings = Settings(models={"cheap": ModelSettings(provider="fake", model="c")})
    assert settings_for_mode(settings, "cheap").routes.single_model == "cheap"
    assert settings_for_mode(settings, "split").routes.single_model is None
    with pytest.raises(TrialInputError, match="needs a model alias named 'strong'"):
        settings_for_mode(settings, "strong")


REPLIES = 'fake_replies = "fake_replies.json"'


def test_a_fake_models_replies_file_is_found_relative_to_its_settings_from_any_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tandem.cli import main

    models = FAKE_MODELS.replace('model = "fake-cheap"', 'model = "fake-cheap"\n' + REPLIES)
    models = models.replace('model = "fake-strong"', 'model = "fake-strong"\n' + REPLIES)
    task = example_trial(tmp_path, models)
    task.write_text(task.read_text().replace('fake_replies = "fake_replies.json"\n', ""))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    args = ["trial", str(task), "--repeat", "1", "--modes", "split", "--format", "json"]
    code = main([*args, "--ledger", str(tmp_path / "l.sqlite")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "cannot read fake replies" not in captured.err
