"""The flow's CLI on the example project, offline: estimate, plan → draft, run, review."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from flow_doubles import FAKE_REPLIES, REQUEST, example_repo

from tandem.cli import main


def _repo(tmp_path: Path) -> Path:
    repo = example_repo(tmp_path)
    (repo / "tandem.toml").write_text('[ledger]\npath = ".tandem/ledger.sqlite"\n')
    return repo


SOURCE = ["--file", "app/handlers.py", "--lines", "10-14"]


def test_estimate_prints_routes_costs_and_the_baseline_without_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    code = main(["estimate", "--repo", str(repo), *SOURCE, "--request", REQUEST, "--json"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in document["steps"]] == ["plan", "draft", "review"]
    assert document["steps"][0]["route"] == "cheap" and document["steps"][0]["input_tokens"] > 0
    assert document["baseline"]["steps"][0]["alias"] == "strong"
    assert document["review_if_not_trivial"]["alias"] == "cheap"
    assert not (repo / ".tandem" / "tasks").exists()


def test_estimate_says_which_files_were_excluded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    (repo / ".env").write_text("DATABASE_PASSWORD=hunter2\n")
    args = ["estimate", "--repo", str(repo), *SOURCE, "--request", REQUEST]
    assert main([*args, "--json"]) == 0
    assert ".env" in json.loads(capsys.readouterr().out)["excluded"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "excluded from the slice (never read or sent): " in out and ".env" in out
    assert "hunter2" not in out


def test_run_json_with_fake_replies_applies_the_reviewed_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    args = ["run", "--repo", str(repo), *SOURCE, "--request", REQUEST]
    args += ["--fake-replies", str(FAKE_REPLIES), "--yes", "--apply", "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert "FAKE provider" in captured.err
    assert document["fake_provider"] is True
    assert [(s["step"], s["provider"], s["outcome"]) for s in document["steps"]] == [
        ("plan", "fake", "ok"), ("draft", "fake", "ok"), ("review", "fake", "ok"),
        ("draft", "fake", "ok"), ("review", "fake", "ok"),
    ]  # fmt: skip
    assert all(e["applies"] for e in document["edits"])
    assert document["findings"][0]["severity"] == "minor"
    assert document["written"] == ["app/handlers.py", "app/queries.py", "tests/test_handlers.py"]
    assert (repo / ".tandem" / "ledger.sqlite").is_file()


def test_plan_then_draft_uses_the_edited_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    fake = ["--fake-replies", str(FAKE_REPLIES)]
    args = ["plan", "--repo", str(repo), *SOURCE, "--request", REQUEST, *fake, "--json"]
    assert main(args) == 0
    planned = json.loads(capsys.readouterr().out)
    task_id = planned["task_id"]
    document = Path(planned["plan_md"])
    document.write_text(document.read_text().replace("## Risks\n\n", "## Risks\n\n- my note\n"))
    # The replies file is read afresh by each command, so the draft queue starts at draft 1.
    assert main(["draft", task_id, "--repo", str(repo), *fake, "--json"]) == 0
    drafted = json.loads(capsys.readouterr().out)
    assert drafted["steps"][-1]["step"] == "draft"
    plan = json.loads((repo / ".tandem" / "tasks" / task_id / "plan.json").read_text())
    assert planned["plan"]["reply"]["summary"]
    assert plan["approved"] and plan["edited_by_user"] and "my note" in plan["reply"]["risks"]


def test_run_without_yes_stops_at_the_plan_and_resume_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    fake = ["--fake-replies", str(FAKE_REPLIES)]
    assert main(["run", "--repo", str(repo), *SOURCE, "--request", REQUEST, *fake, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["status"] == "planned"
    resumed = ["run", "--repo", str(repo), "--resume", first["task_id"], "--yes", "--json"]
    replies = json.loads(FAKE_REPLIES.read_text())
    remaining = tmp_path / "rest.json"
    remaining.write_text(json.dumps({"draft": replies["draft"], "review": replies["review"]}))
    assert main([*resumed, "--fake-replies", str(remaining)]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["status"] == "done" and len(second["steps"]) == 5


def _ctrl_c(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_during_a_plan_says_it_was_recorded_and_how_to_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    fake = ["--fake-replies", str(FAKE_REPLIES)]
    with monkeypatch.context() as patched:
        patched.setattr("tandem.flow.steps.plan_step", _ctrl_c)
        assert main(["plan", "--repo", str(repo), *SOURCE, "--request", REQUEST, *fake]) == 130
    err = capsys.readouterr().err
    assert "tandem plan: interrupted; the step under way is recorded as cancelled" in err
    resume = err.split("resume: ", 1)[1].split()
    assert resume[:3] == ["tandem", "run", "--resume"] and "Traceback" not in err
    assert main([*resume[1:], *fake, "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "done"


def test_ctrl_c_during_a_draft_or_a_review_says_how_to_run_it_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    fake = ["--fake-replies", str(FAKE_REPLIES)]
    assert main(["plan", "--repo", str(repo), *SOURCE, "--request", REQUEST, *fake, "--json"]) == 0
    task_id = json.loads(capsys.readouterr().out)["task_id"]
    monkeypatch.setattr("tandem.flow.steps.draft_step", _ctrl_c)
    assert main(["draft", task_id, "--repo", str(repo), *fake]) == 130
    err = capsys.readouterr().err
    assert f"draft again: tandem draft {task_id} --repo {repo}" in err
    monkeypatch.undo()
    assert main(["draft", task_id, "--repo", str(repo), *fake, "--json"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("tandem.flow.steps.review_step", _ctrl_c)
    assert main(["review", "--task", task_id, "--repo", str(repo), *fake]) == 130
    err = capsys.readouterr().err
    assert "tandem review: interrupted; the step under way is recorded as cancelled" in err
    assert f"review again: tandem review --task {task_id} --repo {repo}" in err


def test_review_of_the_working_tree_returns_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    handlers = repo / "app" / "handlers.py"
    handlers.write_text(handlers.read_text().replace("active projects.", "projects."))
    replies = json.loads(FAKE_REPLIES.read_text())
    only_review = tmp_path / "review.json"
    only_review.write_text(json.dumps({"review": [replies["review"][0]]}))
    args = ["review", "--repo", str(repo), "--working-tree", "--json"]
    assert main([*args, "--fake-replies", str(only_review)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in document["steps"]] == ["review"]
    assert document["findings"][0]["severity"] == "blocking"


def test_bad_input_is_a_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    assert main(["run", "--repo", str(repo), *SOURCE]) == 2
    assert "--request TEXT is required" in capsys.readouterr().err
    assert main(["draft", "no-such-task", "--repo", str(repo)]) == 2
    assert "no task no-such-task" in capsys.readouterr().err


def test_demo_runs_the_split_offline_and_the_example_tests_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "FAKE provider replaying fake_replies.json" in out
    assert "review 2: ok via FAKE fake as strong" in out
    assert "risk of the plan's scope: medium" in out
    assert "example tests after the edits: 5 passed" in out
