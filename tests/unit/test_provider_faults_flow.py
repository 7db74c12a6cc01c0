"""Provider faults in a real ``tandem run`` on a copy of ``examples/projects_api``.

The providers' own retry and failure mapping is specified in ``tests/unit/providers/``; here the
faults go through the real Anthropic SDK, and the OpenAI SDK's Responses API for a subset
(httpx2 mock transport, recorded waits instead of sleeps), into the whole flow, the SQLite
ledger and the task store. Each fault hits the draft
step, after a good plan: the run ends failed with a message that says what happened, the failed
attempt is a ledger row with its HTTP attempts, the plan stays in ``.tandem/tasks/<id>/``, and
``tandem run --resume`` goes on from the draft without planning again.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import httpx2
import pytest
from flow_doubles import REQUEST, example_replies, example_repo

sys.path.insert(0, str(Path(__file__).parent / "providers"))

from provider_wire import (
    FIXED_NOW,
    POLICY,
    Sleeps,
    Step,
    Wire,
    anthropic_error,
    anthropic_message,
    openai_error,
    respond,
    responses_body,
)

from tandem.cli import main
from tandem.ledger.sqlite import SqliteLedger

SOURCE = ["--file", "app/handlers.py", "--lines", "10-14"]


def _ok(reply: dict[str, Any]) -> httpx2.Response:
    return respond(200, anthropic_message(json.dumps(reply), output_tokens=400))


def _replies() -> dict[str, list[Any]]:
    return copy.deepcopy(example_replies())


def _fault(kind: str) -> list[Step]:
    if kind == "rate limited (429, retry-after)":
        limited = anthropic_error("rate_limit_error", "Number of requests has exceeded")
        return [respond(429, limited, {"retry-after": "7"}) for _ in range(4)]
    if kind == "server error (500)":
        return [respond(500, anthropic_error("api_error", "Internal server error"))] * 4
    if kind == "overloaded (529)":
        return [respond(529, anthropic_error("overloaded_error", "Overloaded")) for _ in range(4)]
    if kind == "timeout":
        return [httpx2.ReadTimeout("timed out") for _ in range(4)]
    if kind == "connection reset":
        return [httpx2.ReadError("[Errno 104] Connection reset by peer") for _ in range(4)]
    if kind == "truncated (max_tokens)":
        cut = '{"edits": [{"kind": "replace_unit", "target": "app/queries.py::list_pro'
        return [respond(200, anthropic_message(cut, stop_reason="max_tokens"))]
    if kind == "schema-invalid reply":
        wrong = json.dumps({"edits": "rewrite everything", "notes": 3})
        return [respond(200, anthropic_message(wrong)) for _ in range(2)]
    raise ValueError(kind)


FAULTS = {
    # fault: (words the failure message carries, HTTP attempts the failed step made)
    "rate limited (429, retry-after)": ("rate", 4),
    "server error (500)": ("500", 4),
    "overloaded (529)": ("529", 4),
    "timeout": ("did not answer", 4),
    "connection reset": ("connection", 4),
    "truncated (max_tokens)": ("output limit", 1),
    "schema-invalid reply": ("DraftReply", 2),
}


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Wire], Sleeps]:
    """Every provider the CLI builds talks to the current scripted wire, never the network."""
    from tandem.providers import registry

    real = registry.build_provider
    wires: list[Wire] = []
    sleeps = Sleeps()

    def build(alias: str, model: Any, environ: Any, **options: Any) -> Any:
        return real(
            alias,
            model,
            environ,
            http_client=wires[-1].client(),
            policy=POLICY,
            sleep=sleeps,
            clock=lambda: FIXED_NOW,
        )

    monkeypatch.setattr(registry, "build_provider", build)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    return wires, sleeps


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_at_the_draft_ends_failed_is_recorded_keeps_the_plan_and_resumes(
    fault: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wired: tuple[list[Wire], Sleeps],
) -> None:
    wires, sleeps = wired
    words, attempts = FAULTS[fault]
    replies = _replies()
    repo = example_repo(tmp_path)
    wires.append(Wire([_ok(replies["plan"][0]), *_fault(fault)]))

    run = ["run", "--repo", str(repo), *SOURCE, "--request", REQUEST, "--yes"]
    code, first, _ = _run(run, capsys)

    assert code == 1
    assert first["status"] == "failed"
    assert first["message"].startswith("draft failed:") and words in first["message"]
    assert "the task resumes here" in first["message"]
    assert [(s["step"], s["outcome"]) for s in first["steps"]] == [
        ("plan", "ok"),
        ("draft", "failed"),
    ]
    assert wires[-1].steps == []  # every scripted answer was consumed: no extra attempt
    if fault.startswith("rate limited"):
        assert sleeps.delays == [7, 7, 7]  # the server's retry-after, between the 4 attempts
    task_id = first["task_id"]
    folder = repo / ".tandem" / "tasks" / task_id
    assert {"task.json", "plan.json", "plan.md", "state.json"} <= {p.name for p in folder.iterdir()}
    assert not (folder / "draft.json").exists()
    assert json.loads((folder / "state.json").read_text())["status"] == "failed"
    with SqliteLedger(repo / ".tandem" / "ledger.sqlite") as ledger:
        rows = [row.record for row in ledger.steps(task_id=task_id)]
    assert [(r.step, r.outcome) for r in rows] == [("plan", "ok"), ("draft", "failed")]
    failed = rows[1]
    assert failed.attempts == attempts
    assert failed.error is not None and words in failed.error
    assert failed.estimate is not None
    if fault in ("truncated (max_tokens)", "schema-invalid reply"):
        assert failed.usage.output_tokens > 0  # a reply came back and is paid for
        assert (folder / "raw-draft-1.txt").is_file()

    # The cause is gone: the retry resumes at the draft, with the approved plan it already has.
    clean_review = replies["review"][1]
    wires.append(Wire([_ok(replies["draft"][0]), _ok(clean_review)]))
    code, second, _ = _run(["run", "--repo", str(repo), "--resume", task_id, "--yes"], capsys)
    assert code == 0 and second["status"] == "done"
    assert wires[-1].steps == []
    first_resumed = json.loads(wires[-1].requests[0].content)
    system = first_resumed["system"]
    system_text = system if isinstance(system, str) else " ".join(b["text"] for b in system)
    assert system_text.startswith("You are the drafter")
    with SqliteLedger(repo / ".tandem" / "ledger.sqlite") as ledger:
        rows = [row.record for row in ledger.steps(task_id=task_id)]
    assert [(r.step, r.outcome) for r in rows] == [
        ("plan", "ok"), ("draft", "failed"), ("draft", "ok"), ("review", "ok"),
    ]  # fmt: skip


def test_a_transient_429_recovers_within_the_step_and_counts_its_attempts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], wired: tuple[list[Wire], Sleeps]
) -> None:
    wires, sleeps = wired
    replies = _replies()
    repo = example_repo(tmp_path)
    limited = respond(429, anthropic_error("rate_limit_error", "slow down"), {"retry-after": "3"})
    wires.append(
        Wire(
            [_ok(replies["plan"][0]), limited, _ok(replies["draft"][0]), _ok(replies["review"][1])]
        )
    )
    run = ["run", "--repo", str(repo), *SOURCE, "--request", REQUEST, "--yes"]
    code, document, err = _run(run, capsys)
    assert code == 0 and document["status"] == "done"
    assert sleeps.delays == [3]
    assert "retrying in" in err
    with SqliteLedger(repo / ".tandem" / "ledger.sqlite") as ledger:
        rows = [row.record for row in ledger.steps()]
    assert [(r.step, r.outcome, r.attempts) for r in rows] == [
        ("plan", "ok", 1), ("draft", "ok", 2), ("review", "ok", 1),
    ]  # fmt: skip


def test_a_fault_at_the_plan_keeps_the_task_and_the_retry_plans_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], wired: tuple[list[Wire], Sleeps]
) -> None:
    wires, _ = wired
    replies = _replies()
    repo = example_repo(tmp_path)
    wires.append(Wire(_fault("overloaded (529)")))
    run = ["run", "--repo", str(repo), *SOURCE, "--request", REQUEST, "--yes"]
    code, first, _ = _run(run, capsys)
    assert code == 1 and first["status"] == "failed"
    folder = repo / ".tandem" / "tasks" / first["task_id"]
    assert (folder / "task.json").is_file() and not (folder / "plan.json").exists()
    wires.append(
        Wire([_ok(replies["plan"][0]), _ok(replies["draft"][0]), _ok(replies["review"][1])])
    )
    resume = ["run", "--repo", str(repo), "--resume", first["task_id"], "--yes"]
    code, second, _ = _run(resume, capsys)
    assert code == 0 and second["status"] == "done"
    with SqliteLedger(repo / ".tandem" / "ledger.sqlite") as ledger:
        outcomes = [(r.record.step, r.record.outcome) for r in ledger.steps()]
    assert outcomes == [("plan", "failed"), ("plan", "ok"), ("draft", "ok"), ("review", "ok")]


OPENAI_MODELS = """
[models.strong]
provider = "openai"
model = "gpt-5"
api_key_env = "OPENAI_API_KEY"

[models.cheap]
provider = "openai"
model = "gpt-5-mini"
api_key_env = "OPENAI_API_KEY"
"""


def _openai_ok(reply: dict[str, Any]) -> httpx2.Response:
    return respond(200, responses_body(json.dumps(reply), output_tokens=400, reasoning=100))


OPENAI_FAULTS: dict[str, tuple[list[Step], str, int]] = {
    "rate limited (429, retry-after)": (
        [respond(429, openai_error("Rate limit reached", "requests"), {"retry-after": "2"})] * 4,
        "rate",
        4,
    ),
    "server error (500)": ([respond(500, openai_error("server", "server_error"))] * 4, "500", 4),
    "timeout": ([httpx2.ReadTimeout("timed out") for _ in range(4)], "did not answer", 4),
    "truncated (max_output_tokens)": (
        [
            respond(
                200,
                responses_body(
                    '{"edits": [{"kind": "repl',
                    status="incomplete",
                    incomplete_reason="max_output_tokens",
                ),
            )
        ],
        "output limit",
        1,
    ),
    "schema-invalid reply": (
        [respond(200, responses_body(json.dumps({"edits": 3}))) for _ in range(2)],
        "DraftReply",
        2,
    ),
}


@pytest.mark.parametrize("fault", list(OPENAI_FAULTS))
def test_openai_faults_end_the_same_way_and_resume(
    fault: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wired: tuple[list[Wire], Sleeps],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wires, _ = wired
    steps, words, attempts = OPENAI_FAULTS[fault]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    replies = _replies()
    repo = example_repo(tmp_path)
    (repo / "tandem.toml").write_text(OPENAI_MODELS)
    wires.append(Wire([_openai_ok(replies["plan"][0]), *steps]))
    run = ["run", "--repo", str(repo), *SOURCE, "--request", REQUEST, "--yes"]
    code, first, _ = _run(run, capsys)
    assert code == 1 and first["status"] == "failed"
    assert first["message"].startswith("draft failed:") and words in first["message"]
    task_id = first["task_id"]
    with SqliteLedger(repo / ".tandem" / "ledger.sqlite") as ledger:
        failed = ledger.steps(task_id=task_id)[-1].record
    assert (failed.provider, failed.step, failed.outcome) == ("openai", "draft", "failed")
    assert failed.attempts == attempts
    wires.append(Wire([_openai_ok(replies["draft"][0]), _openai_ok(replies["review"][1])]))
    code, second, _ = _run(["run", "--repo", str(repo), "--resume", task_id, "--yes"], capsys)
    assert code == 0 and second["status"] == "done"
    assert [s["step"] for s in second["steps"]] == ["plan", "draft", "draft", "review"]
