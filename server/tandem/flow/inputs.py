"""What each step's prompt is filled with, taken from the handoff, the slice and the snapshot.

The planner sees the request, the risk and the slice (touched units, related tests, callee
signatures). The drafter sees the approved plan and the exact current code of the units in scope
(never whole source files: for a scoped file without named units, only its import header and the
names of its units; a file Tandem does not slice, such as config or docs, whole when short). The
reviewer sees the plan, the diff, refused edits and the related tests. Drafter and reviewer see
the related tests as the slice shows them: the best one's code, the others by signature.
"""

from __future__ import annotations

import re

from tandem.flow.edits import FileSnapshot, Snapshot
from tandem.flow.handoff import (
    Draft,
    PlanReply,
    Review,
    Task,
    plan_markdown,
    split_unit_id,
    unit_id,
)
from tandem.slicing.elide import TEST_BODIES, head_of_test
from tandem.slicing.render import SIGNATURES_HEADING, Block, shown_lines, signature_line
from tandem.slicing.result import Slice

HEADER_LINES = 30
"""At most this many lines of a scoped file's header (its imports) are shown to the drafter."""
WHOLE_FILE_LINES = 150
"""A scoped file without units (config, docs) up to this long is shown whole, so it can be
patched; a longer one shows its first ``HEAD_LINES`` lines (a changelog's newest entries)."""
HEAD_LINES = 60


def _bullets(items: list[str], empty: str = "(none)") -> str:
    return "\n".join(f"- {item}" for item in items) if items else empty


def _lines(text: str, start: int, end: int) -> str:
    return "".join(text.splitlines(keepends=True)[start - 1 : end])


def _fenced(title: str, code: str) -> str:
    fence = "````" if "```" in code else "```"
    body = code if code.endswith("\n") else code + "\n"
    return f"### {title}\n{fence}\n{body}{fence}"


def plan_values(task: Task, context: Slice) -> dict[str, str]:
    units = [
        f"{unit_id(u.path, u.name)} ({u.kind}, lines {u.start_line}-{u.end_line})"
        for u in context.touched
    ]
    # A signature or a reason the slice's text already shows is not repeated: repeated, they
    # cost about a tenth of the prompt and tell the planner nothing new.
    units += [
        f"{unit_id(c.path, c.name)} (called"
        + ("" if c.signature in context.text else f"; signature: {c.signature}")
        + ")"
        for c in context.callees
    ]
    tests = [
        unit_id(t.path, t.name)
        + ("" if t.reason in _line_of(context.text, t.path, t.start_line) else f" ({t.reason})")
        for t in context.tests
    ]
    reasons = _bullets(task.risk_reasons, "")
    return {
        "request": task.request,
        "task_type": task.task_type,
        "risk_tier": task.risk_tier,
        "risk_reasons": f"Why:\n{reasons}" if reasons else "",
        "units": _bullets(units),
        "tests": _bullets(tests),
        "context": context.text or "(no code context)",
    }


def _line_of(text: str, path: str, start_line: int) -> str:
    """The line of the slice's text that shows the unit of ``path`` starting at ``start_line``
    (its block header, or its line in a list), or ``""``."""
    found = re.search(rf"^(?:--- )?{re.escape(path)}:{start_line}-.*$", text, re.MULTILINE)
    return found.group(0) if found else ""


def scope_paths(plan: PlanReply) -> set[str]:
    return set(plan.scope.files) | {split_unit_id(unit)[0] for unit in plan.scope.units}


def _file_header(file: FileSnapshot) -> str:
    text = file.text or ""
    first = min((unit.start_line for unit in file.definitions()), default=HEADER_LINES + 1)
    return _lines(text, 1, min(first - 1, HEADER_LINES)).rstrip() + "\n"


def scoped_code(plan: PlanReply, snapshot: Snapshot) -> str:
    """The current code of every unit in scope; headers and unit names of other scoped files."""
    blocks: list[str] = []
    named_files: set[str] = set()
    for target in plan.scope.units:
        path, name = split_unit_id(target)
        named_files.add(path)
        file = snapshot.get(path)
        unit = file.unit(name) if name else None
        if file.text is None or unit is None:
            blocks.append(f"### {target}\n(not found in the current code: a new unit)")
            continue
        code = _lines(file.text, unit.start_line, unit.end_line)
        blocks.append(_fenced(f"{target} (lines {unit.start_line}-{unit.end_line})", code))
    for path in sorted(set(plan.scope.files) - named_files):
        file = snapshot.get(path)
        if file.unreadable is not None:
            blocks.append(f"### {path}\n({file.unreadable}: not shown, and not editable)")
            continue
        if file.text is None:
            blocks.append(f"### {path}\n(does not exist yet)")
            continue
        if not file.units:
            blocks.append(_unsliced(path, file.text))
            continue
        names = ", ".join(unit.name for unit in file.definitions()) or "none"
        header = _file_header(file)
        title = f"{path} (header only; existing units: {names})"
        blocks.append(_fenced(title, header) if header.strip() else f"### {title}")
    return "\n\n".join(blocks) if blocks else "(no units in scope)"


def _unsliced(path: str, text: str) -> str:
    """A scoped file without units (config, docs, SQL): whole when short, else its start."""
    lines = text.splitlines(keepends=True)
    if len(lines) <= WHOLE_FILE_LINES:
        return _fenced(f"{path} (whole file)", text)
    shown = "".join(lines[:HEAD_LINES])
    rest = len(lines) - HEAD_LINES
    return _fenced(f"{path} (first {HEAD_LINES} lines; {rest} more not shown)", shown)


def previous_round(draft: Draft, review: Review | None) -> str:
    """The second draft's brief: what the first produced and the blocking findings (or, when
    none of its edits applied, why each was refused)."""
    if review is None:
        refused = [f"{r.kind} {r.target}: {r.reason}" for r in draft.rejected]
        return (
            "\nThis is the second and last draft. None of the first draft's edits could be "
            "applied, for these reasons:\n"
            f"{_bullets(refused or ['it returned no edit'])}\n"
            "Return the complete set of edits the plan asks for, each within the plan's scope "
            "and against the code exactly as shown."
        )
    findings = [
        f"[{f.severity}/{f.category}] {f.location}: {f.message}"
        + (f" Suggested: {f.suggested_change}" if f.suggested_change else "")
        for f in review.findings
        if f.severity in ("blocking", "major")
    ]
    return (
        "\nThis is the second and last draft. The first draft's diff was:\n"
        f"```diff\n{draft.diff or '(empty)'}```\n"
        "The review found these problems; fix them and nothing else:\n"
        f"{_bullets(findings)}\n"
        "Return the complete corrected set of edits: it replaces the first draft entirely."
    )


def draft_context(plan: PlanReply, context: Slice, snapshot: Snapshot) -> str:
    """What the drafter needs beyond the scoped units, without repeating them: the related
    tests and the signatures of called functions outside the scope."""
    scoped = set(plan.scope.units)
    signatures = [
        f"{unit_id(c.path, c.name)}: {c.signature}"
        for c in context.callees
        if unit_id(c.path, c.name) not in scoped
    ]
    parts = ["Related tests:\n" + related_tests_code(context, snapshot)]
    if signatures:
        parts.append(
            "Signatures of called functions (do not change them):\n" + _bullets(signatures)
        )
    return "\n\n".join(parts)


def draft_values(
    plan: PlanReply,
    snapshot: Snapshot,
    context: Slice,
    previous: tuple[Draft, Review | None] | None = None,
) -> dict[str, str]:
    return {
        "plan": plan_markdown(plan),
        "units": scoped_code(plan, snapshot),
        "context": draft_context(plan, context, snapshot),
        "previous": previous_round(*previous) if previous else "",
    }


def related_tests_code(context: Slice, snapshot: Snapshot) -> str:
    """The related tests as the slice shows them: the best with its code (its first lines and
    its last; not numbered, so it can be quoted in a patch) and why it is related, the others
    one per line by signature."""
    parts: list[str] = []
    listed: list[str] = []
    for test in context.tests:
        file = snapshot.get(test.path)
        if file.text is None:
            continue
        lines = file.text.splitlines()[test.start_line - 1 : test.end_line]
        block = Block(test.path, test.name, test.start_line, test.end_line, lines, test.reason)
        if len(parts) < TEST_BODIES:
            block.shown, block.hidden = head_of_test(lines, test.start_line), "more"
            code = "\n".join(shown_lines(block, numbers=False))
            title = f"{unit_id(test.path, test.name)} (lines {test.start_line}-{test.end_line})"
            parts.append(_fenced(f"{title}: {test.reason}", code))
        else:
            listed.append(signature_line(block))
    if listed:
        parts.append("\n".join([SIGNATURES_HEADING, *listed]))
    return "\n\n".join(parts) if parts else "(no related tests were found)"


def review_values(
    plan: PlanReply, draft: Draft, context: Slice, snapshot: Snapshot
) -> dict[str, str]:
    rejected = [f"{r.kind} {r.target}: {r.reason}" for r in draft.rejected]
    return {
        "plan": plan_markdown(plan),
        "diff": f"```diff\n{draft.diff}```" if draft.diff else "(empty diff)",
        "rejected": _bullets(rejected),
        "notes": _bullets(draft.reply.notes),
        "tests": related_tests_code(context, snapshot),
    }
