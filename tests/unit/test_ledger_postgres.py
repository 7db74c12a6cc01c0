"""The shared PostgreSQL ledger, against a real server this test starts (skipped without one).

The server runs from the machine's ``initdb``/``pg_ctl`` in a temporary directory, listening on
loopback only. PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from factories import step_record
from tandem.ledger.errors import LedgerError
from tandem.ledger.open import open_ledger
from tandem.ledger.outcome_rows import UnknownTask
from tandem.ledger.postgres import PostgresLedger
from tandem.ledger.recorder import GuardedRecorder
from tandem.ledger.rows import STEP_COLUMNS, step_values
from tandem.ledger.schema import MIGRATIONS
from tandem.values import FindingRecord, FindingResolution, StepChange, TaskEvent, Usage

psycopg = pytest.importorskip("psycopg", reason="the 'postgres' extra (psycopg 3) is not installed")


def _binaries() -> tuple[str, str] | None:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists() and (root / "pg_ctl").exists():
            return str(root / "initdb"), str(root / "pg_ctl")
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    initdb, pg_ctl = binaries
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
    workdir = Path(tempfile.mkdtemp(prefix="tandem-pg-"))
    data = workdir / "data"
    if run_as:
        os.chown(workdir, run_as["user"], run_as["group"])
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [initdb, "-D", str(data), "-U", "tandem", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        env=env,
        cwd=workdir,
        **run_as,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={workdir}"
    subprocess.run(
        [pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start"],
        check=True,
        capture_output=True,
        env=env,
        cwd=workdir,
        **run_as,
    )
    try:
        yield f"postgresql://tandem@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            env=env,
            cwd=workdir,
            **run_as,
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def url(postgres_url: str) -> str:
    """A clean database for each test."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        tables = ("steps", "task_notes", "trial_runs", "schema_version")
        for table in (*tables, "findings", "step_changes", "task_events", "defects"):
            admin.execute(f"DROP TABLE IF EXISTS {table}")
    return postgres_url


def test_postgres_ledger_stores_usage_and_dollars_exactly(url: str) -> None:
    usage = Usage(
        input_tokens=11,
        cache_read_tokens=22,
        cache_write_tokens=33,
        output_tokens=44,
        reasoning_tokens=5,
    )
    with open_ledger(url) as ledger:
        assert ledger.schema_version() == len(MIGRATIONS)
        ledger.record_step(
            step_record(
                usage=usage,
                cost=Decimal("0.000123456789"),
                findings={"major": 2},
                draft_accepted=False,
            )
        )
        (row,) = ledger.steps()
        assert row.record == step_record(
            usage=usage, cost=Decimal("0.000123456789"), findings={"major": 2}, draft_accepted=False
        )
        assert ledger.task_spend("t1") == (110, Decimal("0.000123456789"))
        ledger.note_task("t1", cleanup_minutes=4)
        assert ledger.task_notes()["t1"].cleanup_minutes == 4


def test_postgres_history_feeds_estimates(url: str) -> None:
    with open_ledger(url) as ledger:
        for output in (10, 30, 20):
            ledger.record_step(step_record(usage=Usage(input_tokens=1, output_tokens=output)))
        assert ledger.typical_output_tokens("draft", "anthropic", "claude-sonnet-4-6") == 20


def test_two_writers_and_concurrent_migration_lose_nothing(url: str) -> None:
    errors: list[BaseException] = []

    def write(task: str) -> None:
        try:
            with open_ledger(url) as ledger:  # both may migrate at once
                for _ in range(50):
                    ledger.record_step(step_record(task))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with open_ledger(url) as ledger:
        assert len(ledger.steps()) == 150
        assert ledger.schema_version() == len(MIGRATIONS)


def test_unreachable_server_is_a_clear_error_and_guarded_recorder_carries_on() -> None:
    dead = f"postgresql://tandem:secret@127.0.0.1:{_free_port()}/postgres"
    with pytest.raises(LedgerError, match="cannot reach the ledger database") as info:
        open_ledger(dead)
    assert "secret" not in str(info.value)
    recorder = GuardedRecorder(dead)
    recorder.record_step(step_record(cost=Decimal("0.25")))
    assert recorder.problem is not None and "not being recorded" in recorder.problem
    assert recorder.task_spend("t1") == (150, Decimal("0.25"))


def test_postgres_ledger_stores_redaction_counts(url: str) -> None:
    with open_ledger(url) as ledger:
        ledger.record_step(step_record(redactions={"github-token": 2}))
        (row,) = ledger.steps()
        assert row.record.redactions == {"github-token": 2}
        assert row.record.redaction_count == 2


def test_a_postgres_ledger_from_before_outcomes_is_upgraded_in_place(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as old, old.transaction():
        old.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")

        class Adapter:  # what Tandem 3-migrations-old ran its migrations through
            def execute(self, sql: str, parameters: Any = (), /) -> Any:
                return old.execute(sql.replace("?", "%s"), tuple(parameters))

        for version in (1, 2, 3):
            MIGRATIONS[version - 1](Adapter(), PostgresLedger.primary_key)
            old.execute("INSERT INTO schema_version VALUES (%s, 'then')", (version,))
        then = STEP_COLUMNS.removesuffix(", usage_counted")  # the columns of that time
        placeholders = ", ".join(["%s"] * len(then.split(",")))
        old.execute(
            f"INSERT INTO steps ({then}) VALUES ({placeholders})",
            step_values(step_record("old", findings={"major": 1}))[: len(then.split(","))],
        )
        old.execute(
            "INSERT INTO task_notes (recorded_at, task_id, cleanup_minutes) "
            "VALUES ('2026-11-01T12:00:00+00:00', 'old', 3)"
        )
    with open_ledger(url) as ledger:
        assert ledger.schema_version() == len(MIGRATIONS) == 5
        (row,) = ledger.steps()
        assert row.record == step_record("old", findings={"major": 1})
        assert ledger.task_notes()["old"].cleanup_minutes == 3
        record = {
            "task_id": "old",
            "review_round": 1,
            "severity": "major",
            "category": "bug",
            "location": "a.py:1",
            "path": "a.py",
            "line": 1,
            "message": "m",
        }
        ledger.record_findings(
            "old", 1, [FindingRecord.model_validate({**record, "index": i}) for i in (0, 1)]
        )
        catch = FindingResolution(
            task_id="old", review_round=1, index=1, outcome="catch", via="quick_fix", change="c"
        )
        assert ledger.resolve_findings([catch]) == 1
        assert ledger.dismiss_open_findings("old", "unacted", "accepted") == 1
        assert [(f.index, f.outcome) for f in ledger.findings()] == [
            (0, "dismissed"),
            (1, "catch"),
        ]
        ledger.record_step_change(StepChange(task_id="old", step="review", code=True))
        ledger.record_task_event(TaskEvent(task_id="old", decision="accepted", rating=5))
        assert [c.code for c in ledger.step_changes()] == [True]
        assert [(e.decision, e.rating) for e in ledger.task_events()] == [("accepted", 5)]
        assert ledger.record_defect("old", "minor", "typo in a message").risk_tier == "medium"
        with pytest.raises(UnknownTask):
            ledger.record_defect("nobody", "minor", "x")
        (row,) = ledger.steps()
        assert (row.record.task_id, row.record.findings) == ("old", {"major": 1})


def test_step_value_and_advice_are_the_same_on_postgres_as_on_sqlite(
    url: str, tmp_path: Path
) -> None:
    from outcome_history import write_history

    from tandem.config import Settings
    from tandem.ledger.sqlite import SqliteLedger
    from tandem.reports.advice import advise
    from tandem.reports.advice_output import advice_json
    from tandem.reports.evidence import load_evidence

    figures = []
    for target in (url, tmp_path / "ledger.sqlite"):
        with open_ledger(target) if isinstance(target, str) else SqliteLedger(target) as ledger:
            write_history(ledger, 12)
            ledger.record_task_event(
                TaskEvent(task_id="low-1", needs_attention=True, detail="draft 1 changed nothing")
            )
            evidence = load_evidence(ledger, None)
            figures.append(advice_json(evidence, advise(evidence, Settings())))
            assert [e.needs_attention for e in ledger.task_events(task_id="low-1")][-1] is True
    on_postgres, on_sqlite = figures
    assert on_postgres == on_sqlite
    assert [
        a["suggested"] for a in on_postgres["advice"] if a["setting"] == "routes.review.low"
    ] == ["skip"]


def test_every_step_value_figure_on_postgres_is_rebuilt_from_the_raw_rows(url: str) -> None:
    from outcome_history import write_history
    from psycopg.rows import dict_row
    from test_step_value import assert_rebuilt

    from tandem.reports.evidence import load_evidence
    from tandem.reports.step_value import step_values

    with open_ledger(url) as ledger:
        write_history(ledger, 20)
        values = step_values(load_evidence(ledger, None))
    with psycopg.connect(url, row_factory=dict_row) as db:
        assert_rebuilt(values, lambda sql: db.execute(sql).fetchall())  # type: ignore[arg-type]


def test_the_report_totals_are_the_same_on_postgres_as_on_sqlite_and_the_raw_rows(
    url: str, tmp_path: Path
) -> None:
    from test_report_totals import NOW, assert_same, fill

    from tandem.ledger.sqlite import SqliteLedger
    from tandem.ledger.totals import StepFilter
    from tandem.reports.render import render_json
    from tandem.reports.scorecards import build_report

    pages = []
    for target in (url, tmp_path / "ledger.sqlite"):
        with open_ledger(target) if isinstance(target, str) else SqliteLedger(target) as ledger:
            fill(ledger)
            for chosen in (StepFilter(), StepFilter(trial_id="V"), StepFilter(task_id="v2")):
                assert_same(chosen, ledger)
            totals = ledger.report_totals()
            report = build_report(totals, ledger.task_notes(), ledger.trial_runs(), now=NOW)
            pages.append(render_json(report))
            assert ledger.estimate_points(StepFilter())
    on_postgres, on_sqlite = pages
    assert on_postgres == on_sqlite
