"""The ledger's tables, grown by an append-only list of migrations that both databases run.

A migration once released is never edited: the schema version recorded in ``schema_version`` is
the number of migrations applied, and a newer Tandem only appends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Executor(Protocol):
    """What a migration needs: sqlite3.Connection and the PostgreSQL adapter both fit."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...


# --- migrations: append only -------------------------------------------------------------------


def _m1_steps_and_notes(db: Executor, pk: str) -> None:
    db.execute(
        f"""
        CREATE TABLE steps (
            id {pk},
            recorded_at TEXT NOT NULL,
            started_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            task_type TEXT NOT NULL,
            step TEXT NOT NULL,
            attempt_of_step INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            alias TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            risk_tier TEXT NOT NULL,
            input_tokens BIGINT NOT NULL,
            cache_read_tokens BIGINT NOT NULL,
            cache_write_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            reasoning_tokens BIGINT NOT NULL,
            cost_usd TEXT,
            latency_ms BIGINT NOT NULL,
            attempts INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            error TEXT,
            estimate_json TEXT,
            est_input_tokens BIGINT,
            est_input_counted BIGINT,
            est_output_typical BIGINT,
            est_output_max BIGINT,
            est_usd_typical TEXT,
            est_usd_max TEXT,
            findings_json TEXT NOT NULL,
            draft_accepted INTEGER,
            trial_id TEXT,
            mode TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX steps_task ON steps (task_id)")
    db.execute("CREATE INDEX steps_history ON steps (provider, model, step, outcome, id)")
    db.execute("CREATE INDEX steps_started ON steps (started_at)")
    db.execute("CREATE INDEX steps_trial ON steps (trial_id)")
    db.execute(
        f"""
        CREATE TABLE task_notes (
            id {pk},
            recorded_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            cleanup_minutes REAL,
            note TEXT
        )
        """
    )
    db.execute("CREATE INDEX task_notes_task ON task_notes (task_id)")


def _m2_trial_runs(db: Executor, pk: str) -> None:
    db.execute(
        f"""
        CREATE TABLE trial_runs (
            id {pk},
            recorded_at TEXT NOT NULL,
            trial_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            run_index INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            test_command TEXT,
            test_passed INTEGER,
            duration_ms BIGINT NOT NULL,
            detail TEXT
        )
        """
    )
    db.execute("CREATE INDEX trial_runs_trial ON trial_runs (trial_id)")


def _m3_step_redactions(db: Executor, pk: str) -> None:
    """How many secrets each step's prompt had replaced before it left (counts, by kind)."""
    db.execute("ALTER TABLE steps ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE steps ADD COLUMN redactions_json TEXT NOT NULL DEFAULT '{}'")


def _m4_outcomes(db: Executor, pk: str) -> None:
    """What each step bought: findings and how they were settled, what a step changed, task
    decisions, ratings, rewrites and time to ready, and defects found after merge."""
    db.execute(
        f"""
        CREATE TABLE findings (
            id {pk},
            recorded_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            review_round INTEGER NOT NULL,
            finding_index INTEGER NOT NULL,
            severity TEXT NOT NULL,
            category TEXT NOT NULL,
            location TEXT NOT NULL,
            path TEXT,
            line INTEGER,
            message TEXT NOT NULL,
            outcome TEXT,
            outcome_via TEXT,
            outcome_change TEXT,
            outcome_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX findings_task ON findings (task_id, review_round, finding_index)")
    db.execute("CREATE INDEX findings_recorded ON findings (recorded_at)")
    db.execute(
        f"""
        CREATE TABLE step_changes (
            id {pk},
            recorded_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            step TEXT NOT NULL,
            step_round INTEGER NOT NULL,
            changed_code INTEGER NOT NULL,
            changed_tests INTEGER NOT NULL,
            changed_ship INTEGER NOT NULL,
            detail TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX step_changes_task ON step_changes (task_id)")
    db.execute("CREATE INDEX step_changes_recorded ON step_changes (recorded_at)")
    db.execute(
        f"""
        CREATE TABLE task_events (
            id {pk},
            recorded_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            decision TEXT,
            rating INTEGER,
            rewrite TEXT,
            ready_seconds REAL,
            needs_attention INTEGER NOT NULL DEFAULT 0,
            detail TEXT
        )
        """
    )
    db.execute("CREATE INDEX task_events_task ON task_events (task_id)")
    db.execute("CREATE INDEX task_events_recorded ON task_events (recorded_at)")
    db.execute(
        f"""
        CREATE TABLE defects (
            id {pk},
            recorded_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            note TEXT NOT NULL,
            risk_tier TEXT NOT NULL,
            route_json TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX defects_task ON defects (task_id)")


def _m5_usage_counted(db: Executor, pk: str) -> None:
    """Whether a step's tokens were counted offline (the server reported none, or the call was
    cancelled or cut off mid-reply) rather than reported by the provider."""
    db.execute("ALTER TABLE steps ADD COLUMN usage_counted INTEGER NOT NULL DEFAULT 0")


MIGRATIONS: tuple[Callable[[Executor, str], None], ...] = (
    _m1_steps_and_notes,
    _m2_trial_runs,
    _m3_step_redactions,
    _m4_outcomes,
    _m5_usage_counted,
)
"""Append only: the schema version is the number of migrations applied. Each gets the
connection and the dialect's auto-increment primary key clause (SQLite or PostgreSQL)."""
