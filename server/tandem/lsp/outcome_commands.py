"""Outcomes from the editor: ``tandem.rateTask``, ``tandem.recordDefect``, ``tandem.findingActed``.

The editors ask for a rating after a draft is applied or discarded (once per task) and send it
with ``tandem.rateTask``; ``tandem.recordDefect`` ties a bug found after merge to the task that
produced it; a review finding's quick fix runs ``tandem.findingActed`` after its edit, so the
finding counts as a catch. Each writes to the task's workspace ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from tandem.lsp import flow_actions
from tandem.lsp.command_errors import CommandFailed
from tandem.lsp.server import TandemServer

if TYPE_CHECKING:  # the ledger and the flow load after ``initialize`` is answered (issue 18)
    from tandem.ledger.base import Ledger
    from tandem.lsp.arguments import DefectArgs, FindingActedArgs, RateTaskArgs

RATE = "tandem.rateTask"
DEFECT = "tandem.recordDefect"


def _ledger_of(ls: TandemServer, root: Path, command: str) -> Ledger:
    from tandem.ledger.errors import LedgerError
    from tandem.ledger.location import configured_ledger
    from tandem.ledger.open import open_ledger

    settings = ls.session.settings_state.current.settings
    try:
        return open_ledger(configured_ledger(settings.ledger, root))
    except LedgerError as error:
        raise CommandFailed(f"{command}: {error}") from error


def _task_root(ls: TandemServer, task_id: str) -> Path:
    """The folder holding the task, else the first folder (its ledger may still know it)."""
    from tandem.lsp.flow_session import root_of_task, workspace_roots

    try:
        return root_of_task(ls, task_id)
    except JsonRpcInvalidParams:
        roots = workspace_roots(ls)
        if not roots:
            raise
        return roots[0]


def rate_task(ls: TandemServer, args: RateTaskArgs) -> dict[str, Any]:
    from tandem.ledger.errors import LedgerError
    from tandem.values import TaskEvent

    root = _task_root(ls, args.task_id)
    with _ledger_of(ls, root, RATE) as ledger:
        try:
            if not ledger.knows_task(args.task_id):
                raise JsonRpcInvalidParams(f"{RATE}: no task {args.task_id} in the ledger")
            if args.rating is not None:
                ledger.record_task_event(TaskEvent(task_id=args.task_id, rating=args.rating))
            if args.cleanup_minutes is not None:
                ledger.note_task(args.task_id, cleanup_minutes=args.cleanup_minutes)
        except LedgerError as error:
            raise CommandFailed(f"{RATE}: {error}") from error
    return {"task_id": args.task_id, "rating": args.rating, "cleanup_minutes": args.cleanup_minutes}


def record_defect(ls: TandemServer, args: DefectArgs) -> dict[str, Any]:
    from tandem.ledger.errors import LedgerError
    from tandem.ledger.outcome_rows import UnknownTask

    root = _task_root(ls, args.task_id)
    with _ledger_of(ls, root, DEFECT) as ledger:
        try:
            defect = ledger.record_defect(args.task_id, args.severity, args.note)
        except (UnknownTask, ValueError) as error:
            raise JsonRpcInvalidParams(f"{DEFECT}: {error}") from error
        except LedgerError as error:
            raise CommandFailed(f"{DEFECT}: {error}") from error
    return {
        "task_id": defect.task_id,
        "severity": defect.severity,
        "risk_tier": defect.risk_tier,
        "route": defect.route,
    }


def finding_acted(ls: TandemServer, args: FindingActedArgs) -> dict[str, Any]:
    from tandem.flow.catches import Catch
    from tandem.flow.outcomes import settle_catches
    from tandem.lsp.flow_session import recording

    root = _task_root(ls, args.task_id)
    catch = Catch(args.index, args.path, (args.line + 1, args.line + 1), None)
    with recording(ls.session, root) as outcomes:
        settled = settle_catches(
            outcomes, args.task_id, args.round, [catch], "quick_fix", "the user's quick fix"
        )
    return {"task_id": args.task_id, "settled": len(settled)}


def register(server: TandemServer) -> None:
    @server.command(RATE)
    def on_rate(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import RateTaskArgs, parse_argument

        return rate_task(ls, parse_argument(RATE, arguments, RateTaskArgs))

    @server.command(DEFECT)
    def on_defect(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import DefectArgs, parse_argument

        return record_defect(ls, parse_argument(DEFECT, arguments, DefectArgs))

    @server.command(flow_actions.FINDING_ACTED)
    def on_finding_acted(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import FindingActedArgs, parse_argument

        parsed = parse_argument(flow_actions.FINDING_ACTED, arguments, FindingActedArgs)
        return finding_acted(ls, parsed)
