"""The SQLite ledger: exact tokens and dollars, migrations, WAL, concurrency, bad files; and
where the ledger is (file or PostgreSQL URL)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import genai_prices
import pytest

from factories import AT, step_record
from tandem.config import ModelSettings
from tandem.cost.estimate import estimate_step
from tandem.cost.prices import price_usage
from tandem.ledger.errors import (
    LedgerCorrupt,
    LedgerDiskFull,
    LedgerLocked,
    LedgerReadOnly,
    LedgerTooNew,
)
from tandem.ledger.recorder import GuardedRecorder
from tandem.ledger.schema import MIGRATIONS
from tandem.ledger.sqlite import SqliteLedger
from tandem.values import Usage

SONNET = ModelSettings(provider="anthropic", model="claude-sonnet-4-6")


def test_tokens_are_stored_exactly_as_reported_and_dollars_equal_genai_prices(
    tmp_path: Path,
) -> None:
    usage = Usage(
        input_tokens=12_345,
        cache_read_tokens=67_890,
        cache_write_tokens=1_111,
        output_tokens=2_222,
        reasoning_tokens=333,
    )
    dollars = price_usage(SONNET, usage, at=AT)
    genai_figure = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=12_345 + 67_890 + 1_111,
            cache_read_tokens=67_890,
            cache_write_tokens=1_111,
            output_tokens=2_222,
            output_reasoning_tokens=333,
        ),
        model_ref="claude-sonnet-4-6",
        provider_id="anthropic",
        genai_request_timestamp=AT,
    ).total_price
    assert dollars == genai_figure
    estimate = estimate_step("draft", "strong", SONNET, system="s", user="u", output_schema=None)
    with SqliteLedger(tmp_path / "ledger.sqlite") as ledger:
        ledger.record_step(
            step_record(
                usage=usage,
                cost=dollars,
                estimate=estimate,
                findings={"blocking": 1, "minor": 2},
                draft_accepted=True,
                trial_id="trial-1",
                mode="cheap",
            )
        )
        (row,) = ledger.steps()
    assert row.record.usage == usage
    assert row.record.cost_usd == genai_figure
    assert isinstance(row.record.cost_usd, Decimal)
    assert row.record.estimate == estimate
    assert row.record.findings == {"blocking": 1, "minor": 2}
    assert row.record.draft_accepted is True
    assert (row.record.trial_id, row.record.mode) == ("trial-1", "cheap")
    assert row.record == step_record(
        usage=usage,
        cost=dollars,
        estimate=estimate,
        findings={"blocking": 1, "minor": 2},
        draft_accepted=True,
        trial_id="trial-1",
        mode="cheap",
    )


def test_the_lean_row_reader_agrees_with_the_validated_one(tmp_path: Path) -> None:
    from outcome_history import write_history

    estimate = estimate_step("draft", "strong", SONNET, system="s", user="u", output_schema=None)
    with SqliteLedger(tmp_path / "ledger.sqlite") as ledger:
        ledger.record_step(step_record(estimate=estimate, draft_accepted=False, cost=None))
        ledger.record_step(step_record(findings={"blocking": 2}, trial_id="t", mode="strong"))
        counted = Usage(input_tokens=812, output_tokens=37, counted=True)
        ledger.record_step(step_record(usage=counted))
        write_history(ledger, 5)
        lean, validated = ledger.steps(), ledger.steps(validate=True)
    assert len(lean) == len(validated) > 30
    assert lean == validated
    assert [row.record.model_dump() for row in lean] == [
        row.record.model_dump() for row in validated
    ]
    assert lean[0].record.estimate == estimate
    assert lean[0].record.estimate is not None
    assert isinstance(lean[0].record.estimate.usd_max, Decimal)


def test_dollars_keep_full_decimal_precision(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_step(step_record(cost=Decimal("0.000123456789012345")))
        ledger.record_step(step_record(cost=Decimal("0.1")))
        ledger.record_step(step_record(cost=None))  # unpriced: no dollars, tokens still count
        tokens, dollars = ledger.task_spend("t1")
    assert dollars == Decimal("0.100123456789012345")
    assert tokens == 3 * 150


def test_task_spend_counts_only_that_task(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_step(step_record("a"))
        ledger.record_step(step_record("b", cost=Decimal("2")))
        assert ledger.task_spend("a") == (150, Decimal("0.01"))
        assert ledger.task_spend("nobody") == (0, Decimal(0))


def test_new_ledger_is_in_wal_mode_with_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "ledger.sqlite"
    with SqliteLedger(path) as ledger:
        assert ledger.schema_version() == len(MIGRATIONS)
        # FULL (2): a recorded step is on disk before record_step returns.
        assert ledger._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [row[0] for row in db.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_an_old_ledger_is_migrated_forward_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    MIGRATIONS[0](db, SqliteLedger.primary_key)
    db.execute("INSERT INTO schema_version VALUES (1, 'then')")
    db.commit()
    db.close()
    with SqliteLedger(path) as ledger:
        ledger.record_step(step_record())
        assert ledger.schema_version() == len(MIGRATIONS)
        assert len(ledger.steps()) == 1
        assert ledger.trial_runs() == []  # table from migration 2 now exists


def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with SqliteLedger(path) as ledger:
        ledger.record_step(step_record())
    with SqliteLedger(path) as ledger:
        assert len(ledger.steps()) == 1


def test_ledger_from_a_newer_tandem_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    SqliteLedger(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (99, 'future')")
    db.commit()
    db.close()
    with pytest.raises(LedgerTooNew, match="upgrade Tandem"):
        SqliteLedger(path)


def test_history_gives_median_output_after_enough_steps(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        assert ledger.typical_output_tokens("draft", "anthropic", "claude-sonnet-4-6") is None
        for output in (100, 300, 200):
            ledger.record_step(step_record(usage=Usage(input_tokens=1, output_tokens=output)))
        ledger.record_step(
            step_record(usage=Usage(output_tokens=9_999), outcome="failed", error="boom")
        )
        ledger.record_step(step_record(step="plan", usage=Usage(output_tokens=5)))
        assert ledger.typical_output_tokens("draft", "anthropic", "claude-sonnet-4-6") == 200
        assert ledger.typical_output_tokens("draft", "openai", "claude-sonnet-4-6") is None


def test_calibration_is_actual_over_counted_input(tmp_path: Path) -> None:
    base = estimate_step("plan", "strong", SONNET, system="s", user="x" * 50, output_schema=None)
    counted = base.input_tokens_counted
    assert counted is not None
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        for actual in (int(counted * 1.1), int(counted * 1.3), int(counted * 1.2)):
            # Cache reads are part of what was sent.
            usage = Usage(input_tokens=actual - 10, cache_read_tokens=10, output_tokens=1)
            ledger.record_step(step_record(usage=usage, estimate=base))
        # a step whose tokens were counted offline says nothing about the real tokenizer
        offline = Usage(input_tokens=counted * 5, output_tokens=1, counted=True)
        for _ in range(3):
            ledger.record_step(step_record(usage=offline, estimate=base))
        factor = ledger.input_calibration("anthropic", "claude-sonnet-4-6")
        assert factor == pytest.approx(int(counted * 1.2) / counted)
        calibrated = estimate_step(
            "plan", "strong", SONNET, system="s", user="x" * 50, output_schema=None, history=ledger
        )
    assert calibrated.input_tokens == round(counted * factor)


def test_counted_usage_is_stored_marked_and_read_back_marked(tmp_path: Path) -> None:
    counted = Usage(input_tokens=812, output_tokens=37, counted=True)
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_step(step_record(usage=counted, outcome="cancelled"))
        ledger.record_step(step_record(usage=Usage(input_tokens=5, output_tokens=1)))
        rows = ledger.steps()
    assert [row.record.usage for row in rows] == [counted, Usage(input_tokens=5, output_tokens=1)]


def test_task_notes_keep_the_latest_cleanup_minutes(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.note_task("t1", cleanup_minutes=20)
        ledger.note_task("t1", cleanup_minutes=5)
        ledger.note_task("t1", note="renamed two helpers")
        note = ledger.task_notes()["t1"]
    assert note.cleanup_minutes == 5
    assert note.note == "renamed two helpers"


def test_negative_cleanup_minutes_are_rejected(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger, pytest.raises(ValueError, match="between"):
        ledger.note_task("t1", cleanup_minutes=-3)


def test_steps_filter_by_time_and_task(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_step(step_record("old", started_at=AT - timedelta(days=10)))
        ledger.record_step(step_record("new", started_at=AT))
        assert [r.record.task_id for r in ledger.steps(since=AT - timedelta(days=1))] == ["new"]
        assert [r.record.task_id for r in ledger.steps(task_id="old")] == ["old"]


def test_threads_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledgers = [SqliteLedger(path), SqliteLedger(path)]  # two connections, like two windows
    errors: list[BaseException] = []

    def write(ledger: SqliteLedger, task: str) -> None:
        try:
            for _ in range(100):
                ledger.record_step(step_record(task))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(ledgers[i % 2], f"t{i}")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ledgers[0].steps()) == 400
    for ledger in ledgers:
        ledger.close()


def _write_many(path: str, task: str, count: int) -> None:
    ledger = SqliteLedger(Path(path))
    for _ in range(count):
        ledger.record_step(step_record(task))
    ledger.close()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_write_many, args=(str(path), f"p{i}", 150)) for i in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with SqliteLedger(path) as ledger:
        assert ledger.task_spend("p0")[0] == 150 * 150
        assert ledger.task_spend("p1")[0] == 150 * 150


def test_corrupt_file_is_a_clear_error_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    garbage = b"this is not sqlite at all\n" * 100
    path.write_bytes(garbage)
    with pytest.raises(LedgerCorrupt, match="left untouched"):
        SqliteLedger(path)
    assert path.read_bytes() == garbage


def test_damaged_pages_are_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with SqliteLedger(path) as ledger:
        for _ in range(50):
            ledger.record_step(step_record())
    data = bytearray(path.read_bytes())
    data[4096 : 4096 * 3] = b"\xff" * (4096 * 2)  # smash table pages, keep the header
    path.write_bytes(bytes(data))
    with pytest.raises(LedgerCorrupt):
        ledger = SqliteLedger(path)
        ledger.steps()


def test_locked_ledger_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    SqliteLedger(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        ledger = SqliteLedger(path, busy_timeout_ms=50)
        with pytest.raises(LedgerLocked, match="locked"):
            ledger.record_step(step_record())
    finally:
        holder.execute("ROLLBACK")
    ledger.record_step(step_record())  # works again once released
    assert len(ledger.steps()) == 1


def test_full_disk_is_a_clear_error_and_earlier_rows_survive(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with SqliteLedger(path) as ledger:
        ledger.record_step(step_record())
        pages = ledger._db.execute("PRAGMA page_count").fetchone()[0]
        # SQLite reports SQLITE_FULL exactly as for a full disk once the page cap is reached.
        ledger._db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(LedgerDiskFull, match="full"):
            for _ in range(500):
                ledger.record_step(step_record(error="x" * 2000))
    with SqliteLedger(path) as ledger:
        assert len(ledger.steps()) >= 1


def _try_read_only(path: str, results: multiprocessing.queues.Queue[str]) -> None:
    # Root ignores file modes, so the child drops to an unprivileged user first.
    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)
    try:
        ledger = SqliteLedger(Path(path))
        results.put(str(len(ledger.steps())))
        ledger.record_step(ledger.steps()[0].record)
        results.put("written")
    except LedgerReadOnly as error:
        results.put(f"READONLY {error}")
    except Exception as error:
        results.put(f"OTHER {type(error).__name__}: {error}")


def test_read_only_ledger_still_reads_and_refuses_writes_clearly() -> None:
    workdir = Path(tempfile.mkdtemp())
    try:
        path = workdir / "l.sqlite"
        with SqliteLedger(path) as ledger:
            ledger.record_step(step_record())
        for item in workdir.iterdir():
            item.chmod(0o444)
        workdir.chmod(0o555)
        context = multiprocessing.get_context("fork")
        results: multiprocessing.queues.Queue[str] = context.Queue()
        child = context.Process(target=_try_read_only, args=(str(path), results))
        child.start()
        child.join(timeout=60)
        first, second = results.get(timeout=5), results.get(timeout=5)
        assert first == "1"
        assert second.startswith("READONLY ledger"), second
        assert "permissions" in second
        with SqliteLedger(path) as ledger:  # nothing lost
            assert len(ledger.steps()) == 1
    finally:
        workdir.chmod(0o755)
        for item in workdir.iterdir():
            item.unlink()
        workdir.rmdir()


def test_guarded_recorder_keeps_working_when_the_ledger_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    path.write_bytes(b"garbage" * 100)
    recorder = GuardedRecorder(path)
    assert recorder.problem is not None
    assert recorder.problem.startswith("spend is not being recorded")
    recorder.record_step(step_record(cost=Decimal("0.5")))
    assert recorder.task_spend("t1") == (150, Decimal("0.5"))
    assert path.read_bytes() == b"garbage" * 100


def test_guarded_recorder_writes_held_records_once_the_lock_is_released(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    recorder = GuardedRecorder(path, busy_timeout_ms=50)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    recorder.record_step(step_record(cost=Decimal("1")))
    assert recorder.problem is not None and "locked" in recorder.problem
    holder.execute("ROLLBACK")
    recorder.record_step(step_record(cost=Decimal("2")))
    assert recorder.problem is None
    assert recorder.unrecorded == []
    assert recorder.task_spend("t1") == (300, Decimal("3"))
    recorder.close()


def test_a_directory_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a file"):
        SqliteLedger(tmp_path)


def test_read_only_location_for_a_new_ledger_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LedgerReadOnly, match="writable"):
        SqliteLedger(blocker / "sub" / "ledger.sqlite")


def test_configured_ledger_prefers_url_then_path_then_default(tmp_path: Path) -> None:
    from tandem.config import LedgerSettings
    from tandem.ledger.location import configured_ledger

    url = "postgresql://team@db/tandem"
    assert configured_ledger(LedgerSettings(url=url, path="x.sqlite"), tmp_path) == url
    assert configured_ledger(LedgerSettings(path="x.sqlite"), tmp_path) == tmp_path / "x.sqlite"
    assert configured_ledger(LedgerSettings(), tmp_path) == tmp_path / ".tandem/ledger.sqlite"


def test_a_ledger_location_is_a_postgres_url_or_else_a_file_path() -> None:
    from tandem.ledger.location import is_postgres_url, ledger_target

    assert ledger_target("postgresql://team@db/tandem") == "postgresql://team@db/tandem"
    assert ledger_target("postgres://team@db/tandem") == "postgres://team@db/tandem"
    assert ledger_target("team/ledger.sqlite") == Path("team/ledger.sqlite")
    assert not is_postgres_url("mysql://team@db/tandem")


def test_a_ledger_url_is_shown_without_its_password() -> None:
    from tandem.ledger.location import without_password

    shown = without_password("postgresql://team:s3cret@db.internal:5432/tandem?sslmode=require")
    assert shown == "postgresql://team:***@db.internal:5432/tandem?sslmode=require"
    assert without_password("postgresql://team@db/tandem") == "postgresql://team@db/tandem"


def test_a_file_ledger_never_imports_the_postgres_driver(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from tandem.ledger.open import open_ledger; "
        f"open_ledger(Path({str(tmp_path / 'l.sqlite')!r})).close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg' "
        "or m == 'tandem.ledger.postgres'))"
    )
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "server")}
    assert subprocess.check_output([sys.executable, "-c", code], env=env, text=True) == "[]\n"


def test_ledger_url_setting_must_be_postgres() -> None:
    from tandem.config import load_settings

    loaded = load_settings(overrides=[("t", {"ledger": {"url": "mysql://x"}})])
    assert [p.key_path for p in loaded.problems] == ["ledger.url"]


def test_redaction_counts_are_stored_per_step_never_the_values(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_step(step_record(redactions={"aws-access-key-id": 1, "password": 2}))
        ledger.record_step(step_record())
        first, second = ledger.steps()
        assert first.record.redactions == {"aws-access-key-id": 1, "password": 2}
        assert first.record.redaction_count == 3
        assert second.record.redactions == {}
        raw = ledger._read("SELECT redactions, redactions_json FROM steps ORDER BY id")
        assert [tuple(row) for row in raw] == [
            (3, '{"aws-access-key-id": 1, "password": 2}'),
            (0, "{}"),
        ]


def test_a_version_two_ledger_gains_the_redaction_columns_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    MIGRATIONS[0](db, SqliteLedger.primary_key)
    MIGRATIONS[1](db, SqliteLedger.primary_key)
    db.execute("INSERT INTO schema_version VALUES (1, 'then'), (2, 'then')")
    columns = list(db.execute("PRAGMA table_info(steps)"))
    values = {
        "recorded_at": AT.isoformat(),
        "started_at": AT.isoformat(),
        "task_id": "old",
        "task_type": "small",
        "step": "plan",
        "attempt_of_step": 1,
        "provider": "openai",
        "model": "gpt-5-mini",
        "alias": "cheap",
        "prompt_version": "v",
        "risk_tier": "low",
        "findings_json": "{}",
        "mode": "split",
        "outcome": "ok",
    }
    names = [c[1] for c in columns if c[1] != "id"]
    required = {c[1] for c in columns if c[3]}  # NOT NULL columns get 0, the others NULL
    row = [values.get(name, 0 if name in required else None) for name in names]
    db.execute(
        f"INSERT INTO steps ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", row
    )
    db.commit()
    db.close()
    with SqliteLedger(path) as ledger:
        assert ledger.schema_version() == len(MIGRATIONS) >= 3
        (old,) = ledger.steps()
        assert old.record.task_id == "old" and old.record.redactions == {}
        ledger.record_step(step_record(redactions={"jwt": 1}))
        assert ledger.steps(task_id="t1")[0].record.redactions == {"jwt": 1}
