"""Previews (what the hover shows) and the status and report the editor commands return."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from factories import spend_record
from tandem.config import Settings
from tandem.flow.handoff import Task
from tandem.flow.taskstore import StepSummary, TaskState, TaskStore
from tandem.ledger.base import Ledger
from tandem.ledger.sqlite import SqliteLedger
from tandem.reports.status import LedgerView, current_task, write_report
from tandem.session.preview import PreviewError, build_preview, preview_markdown
from tandem.slicing.live import LiveIndex
from tandem.slicing.result import FileRangeAnchor

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "projects_api"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "project"))


def _record(ledger: Ledger, task_id: str, dollars: str, when: datetime) -> None:
    ledger.record_step(spend_record(task_id, dollars, started_at=when))


def test_a_missing_ledger_reads_as_nothing_spent_and_is_not_created(project: Path) -> None:
    view = LedgerView(Settings(), project)
    assert view.today_usd() == Decimal(0)
    assert view.typical_output_tokens("plan", "anthropic", "claude-sonnet-4-6") is None
    assert not (project / ".tandem" / "ledger.sqlite").exists()


def test_today_counts_only_steps_since_midnight_utc(project: Path) -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with SqliteLedger(project / ".tandem" / "ledger.sqlite") as ledger:
        _record(ledger, "a", "0.50", now - timedelta(days=1))
        _record(ledger, "b", "0.02", now - timedelta(hours=8))
        _record(ledger, "c", "0.03", now - timedelta(minutes=5))
    view = LedgerView(Settings(), project)
    assert view.today_usd(now) == Decimal("0.05")


def _task(store: TaskStore, task_id: str, status: str, spent: str, task_type: str) -> None:
    store.save_task(
        Task(
            task_id=task_id,
            request="change it",
            anchor=FileRangeAnchor(path="app/handlers.py", start_line=1, end_line=2),
            task_type=task_type,  # type: ignore[arg-type]
            repo="/r",
        )
    )
    steps = [StepSummary(step="plan", outcome="ok", cost_usd=Decimal(spent))]
    store.save_state(task_id, TaskState(status=status, steps=steps))  # type: ignore[arg-type]


def test_the_current_task_is_the_one_updated_last(project: Path) -> None:
    assert current_task(project, Settings()) is None
    store = TaskStore(project)
    _task(store, "20261130-090000-aaaaaa", "drafted", "0.04", "feature")
    _task(store, "20261129-090000-bbbbbb", "planned", "0.01", "small")  # older id, newer write
    found = current_task(project, Settings())
    assert found is not None
    assert (found.task_id, found.stage) == ("20261129-090000-bbbbbb", "planned")
    assert found.spent_usd == Decimal("0.01") and found.budget_usd == Decimal("0.10")


def test_the_report_without_a_ledger_says_nothing_is_recorded(project: Path) -> None:
    path = write_report(project, Settings())
    assert path == project / ".tandem" / "report.md"
    assert "_Nothing recorded._" in path.read_text(encoding="utf-8")


def test_a_preview_names_slice_risk_routes_costs_baseline_and_budget(project: Path) -> None:
    index = LiveIndex(project, Settings())
    preview = build_preview(index, "app/handlers.py", 19, 19, today_usd=Decimal("0.25"))
    assert [unit.name for unit in preview.context.touched] == ["get_project"]
    assert preview.request == "Change get_project"
    assert preview.context.tests  # the example's handler tests are found
    left = preview.budget.task_left_usd
    assert left is not None and preview.flow.estimate.usd_max is not None
    assert left == preview.budget.max_usd - preview.flow.estimate.usd_max
    text = preview_markdown(preview)
    for part in ("`get_project`", "**Slice:**", "| plan |", "| draft |", "| review |"):
        assert part in text
    assert "All-strong baseline" in text and "**Today:** $0.2500 spent" in text


def test_a_preview_follows_the_open_buffer_and_its_request(project: Path) -> None:
    index = LiveIndex(project, Settings())
    path = project / "app" / "queries.py"
    text = path.read_text(encoding="utf-8") + (
        '\n\ndef purge(connection):\n    connection.execute(f"DELETE FROM projects WHERE {1}")\n'
    )
    index.open_document("app/queries.py", text, 2)
    last = text.count("\n")
    preview = build_preview(index, "app/queries.py", last, last, request="fix the purge bug")
    assert preview.request == "fix the purge bug"
    assert [unit.name for unit in preview.context.touched] == ["purge"]
    assert any("SQL built by string formatting" in r for r in preview.flow.risk.messages)


def test_nothing_to_preview_outside_code(project: Path) -> None:
    index = LiveIndex(project, Settings())
    with pytest.raises(PreviewError):
        build_preview(index, "README.md", 1, 1)
    with pytest.raises(PreviewError):
        build_preview(index, "app/nowhere.py", 1, 1)


def test_a_document_belongs_to_the_deepest_folder_and_moves_with_settings(
    project: Path,
) -> None:
    from tandem.session.settings import SettingsState
    from tandem.session.workspaces import Workspaces

    state = SettingsState()
    workspaces = Workspaces(state)
    outer = workspaces.add(project)
    inner = workspaces.add(project / "app")
    assert workspaces.for_uri((project / "app" / "db.py").as_uri()) is inner
    assert workspaces.for_uri((project / "tests" / "test_handlers.py").as_uri()) is outer
    assert workspaces.for_uri("untitled:Untitled-1") is None
    assert workspaces.locate((project / "README.md").as_uri()) == (outer, "README.md")

    state.client_settings = {"routes": {"single_model": "cheap"}}
    state.reload()
    refreshed = workspaces.for_path(project / "README.md")
    assert refreshed is outer and outer.settings.routes.single_model == "cheap"
    assert outer.index is not None and not outer.index.ready  # same index: nothing it reads

    state.client_settings = {"context": {"max_file_bytes": 5000}}
    state.reload()
    rebuilt = workspaces.for_path(project / "README.md")
    assert rebuilt is not None and rebuilt is not outer  # a new index for the new size limit
    assert rebuilt.index.max_file_bytes == 5000


def test_a_located_document_moves_to_a_deeper_folder_added_later_and_leaves_a_removed_one(
    project: Path,
) -> None:
    from tandem.session.settings import SettingsState
    from tandem.session.workspaces import Workspaces

    workspaces = Workspaces(SettingsState())
    outer = workspaces.add(project)
    uri = (project / "app" / "db.py").as_uri()
    assert workspaces.locate(uri) == (outer, "app/db.py")
    inner = workspaces.add(project / "app")
    assert workspaces.locate(uri) == (inner, "db.py")
    workspaces.remove(project / "app")
    assert workspaces.locate(uri) == (outer, "app/db.py")
    workspaces.remove(project)
    assert workspaces.locate(uri) is None


def test_hovers_inside_one_function_share_its_preview(project: Path) -> None:
    from tandem.session.settings import SettingsState
    from tandem.session.workspaces import Workspaces

    folder = Workspaces(SettingsState()).add(project)
    first = folder.preview("app/handlers.py", 19, 19, version=1)
    assert folder.preview("app/handlers.py", 21, 21, version=1) is first
    assert folder.preview("app/handlers.py", 21, 21, version=2) is not first
    folder.changed()
    assert folder.preview("app/handlers.py", 19, 19, version=1) is not first


def test_a_filesystem_root_or_system_folder_is_never_indexed(tmp_path: Path) -> None:
    from tandem.session.workspaces import unindexable_reason

    assert unindexable_reason(Path("/")) == "it is the root of the filesystem"
    assert unindexable_reason(Path("/proc/self")) == "it is a system folder"
    assert unindexable_reason(Path("/dev")) == "it is a system folder"
    assert unindexable_reason(tmp_path) is None


def test_the_home_folder_and_a_file_are_never_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tandem.session.workspaces import unindexable_reason

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "project").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    assert unindexable_reason(tmp_path) == "it is your home folder"
    assert unindexable_reason(tmp_path / "a.py") == "it is not a folder"
    assert unindexable_reason(tmp_path / "project") is None


def test_a_walk_gives_up_on_a_folder_with_nothing_to_slice(tmp_path: Path) -> None:
    from tandem.slicing.exclusions import Exclusions
    from tandem.slicing.files import NotAProject, walk_repository

    for n in range(12):
        (tmp_path / f"n{n}.txt").touch()
    exclusions = Exclusions.load(tmp_path, Settings().exclusions)
    with pytest.raises(NotAProject, match="no file to slice among the first 10 files"):
        walk_repository(tmp_path, exclusions, give_up_after=10)
    (tmp_path / "a.py").write_text("x = 1\n")
    assert walk_repository(tmp_path, exclusions, give_up_after=10).files == ["a.py"]
    assert walk_repository(tmp_path / "none", exclusions, give_up_after=10).files == []


def test_the_walks_exclusion_caches_are_dropped_after_it(tmp_path: Path) -> None:
    from tandem.slicing.exclusions import Exclusions
    from tandem.slicing.files import walk_repository

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / ".env").write_text("SECRET=1\n")
    exclusions = Exclusions.load(tmp_path, Settings().exclusions)
    walk_repository(tmp_path, exclusions)
    quick = [check for _, check in exclusions._all_checks()]
    assert any(check.cache or check.folders for check in quick)
    exclusions.walked()
    assert not any(check.cache or check.folders for check in quick)
    assert exclusions.excluded(".env") and not exclusions.excluded("pkg/a.py")
