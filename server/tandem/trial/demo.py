"""The offline demo: the whole split on the bundled example, with replies honestly labelled.

It copies ``examples/projects_api`` to a scratch folder, slices the handler, shows the risk, the
routes and the estimate beside the all-strong baseline, then runs plan → draft → review with the
FAKE provider replaying ``fake_replies.json`` (canned replies written by hand for the example
task, not model output), applies the final edits to the copy and runs the example's tests.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tandem.config import load_settings

EXAMPLE_TASK = (
    "add an optional `archived` filter to GET /projects: keep the default behaviour, accept "
    "true/false, reject other values, filter in the query, with tests"
)


def default_example() -> Path:
    return Path(__file__).resolve().parents[3] / "examples" / "projects_api"


def _usd(value: object) -> str:
    return f"${value:.4f}" if value is not None else "unpriced"


def run_demo(example: Path | None) -> int:
    root = (example or default_example()).resolve()
    replies = root / "fake_replies.json"
    if not (root / "app" / "handlers.py").is_file() or not replies.is_file():
        print(f"tandem demo: {root} is not the projects_api example", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tandem-demo-") as scratch:
        repo = Path(scratch) / root.name
        shutil.copytree(root, repo, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
        return _demo(repo, replies)


def _demo(repo: Path, replies: Path) -> int:
    from tandem.flow.apply import apply_task_edits
    from tandem.flow.env import build_flow_env, one_provider
    from tandem.flow.estimate import estimate_flow
    from tandem.flow.run import run_flow
    from tandem.flow.task import create_task
    from tandem.ledger.recorder import GuardedRecorder
    from tandem.providers.fake import FakeProvider
    from tandem.slicing import slice_repository
    from tandem.slicing.result import FileRangeAnchor

    settings = load_settings(workspace=repo).settings
    print("Tandem demo (offline)")
    print(f"task: {EXAMPLE_TASK}")
    anchor = FileRangeAnchor(path="app/handlers.py", start_line=10, end_line=14)
    context = slice_repository(repo, anchor, settings)
    print(
        f"slice: {context.tokens} tokens instead of {context.whole_file_tokens} for whole files; "
        f"{len(context.tests)} related tests"
    )
    estimate = estimate_flow(settings, repo, EXAMPLE_TASK, anchor, context)
    print(f"risk before planning: {estimate.risk.tier} ({'; '.join(estimate.risk.messages)})")
    total = estimate.estimate
    print(
        f"estimate: {_usd(total.usd_typical)} typical on the split, "
        f"{_usd(total.baseline_usd_typical)} all-strong baseline (nothing sent)"
    )
    conditional = estimate.review_if_not_trivial
    if conditional is not None:
        print(
            f"  (+ {_usd(conditional.usd_typical)} if the draft is too large to skip review "
            f"on {conditional.alias})"
        )
    print(f"replies: FAKE provider replaying {replies.name} (written by hand, not a model)")
    recorder = GuardedRecorder(repo / ".tandem" / "ledger.sqlite")
    env = build_flow_env(
        settings,
        repo,
        recorder=recorder,
        providers=one_provider(FakeProvider.from_file(replies)),
        history=recorder,
    )
    try:
        task = create_task(env, EXAMPLE_TASK, anchor, context)
        result = asyncio.run(run_flow(env, task.task_id, approve=True))
        raised = env.store.load_task(task.task_id)
        if raised.risk_tier != estimate.risk.tier:
            scope = [m for m in raised.risk_reasons if m.startswith("plan scope")]
            print(f"risk of the plan's scope: {raised.risk_tier} ({'; '.join(scope)})")
        for step in result.steps:
            label = "FAKE " if step.fake else ""
            print(
                f"  {step.step} {step.round}: {step.outcome} via {label}{step.provider} as "
                f"{step.alias}: {step.input_tokens} in / {step.output_tokens} out, "
                f"{_usd(step.cost_usd)} at {step.alias}'s price"
            )
        print(f"stop rule: {result.message}")
        for finding in result.findings:
            print(f"  finding [{finding.severity}/{finding.category}] {finding.message}")
        written = apply_task_edits(env, task.task_id) if result.status == "done" else []
        print("applied to the scratch copy: " + (", ".join(written) or "nothing"))
    finally:
        recorder.close()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    last = (tests.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"example tests after the edits: {last}")
    return 0 if tests.returncode == 0 and written else 1
