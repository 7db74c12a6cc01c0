"""The signatures of the functions the touched code calls, looked up in the changed folders."""

from __future__ import annotations

import re

from tandem.slicing.files import RepoFiles
from tandem.slicing.index import RepoIndex
from tandem.slicing.languages import FAMILY
from tandem.slicing.records import FileRecord
from tandem.slicing.result import CalleeSignature
from tandem.slicing.units import Unit, is_test_file

MAX_CALLEES = 12
# A name followed by an opening parenthesis, with an optional generic argument list between.
_CALL = re.compile(r"([A-Za-z_]\w*)\s*(?:<[^<>()\n]*>)?\s*\(")


def callees(
    index: RepoIndex,
    walk: RepoFiles,
    records: dict[str, FileRecord],
    touched: list[tuple[str, Unit]],
) -> list[CalleeSignature]:
    """Functions called by the touched functions, defined in a changed file or a non-test file
    beside one, in the order first called; at most ``MAX_CALLEES``."""
    called: list[str] = []
    own = {u.simple_name for _, u in touched}
    for path, unit in touched:
        if unit.kind != "function":
            continue
        rec = records[path]
        lines = rec.lines()[unit.start_line - 1 : unit.end_line]
        body = "\n".join(lines[1:]) if len(lines) > 1 else "\n".join(lines)
        for m in _CALL.finditer(body):
            name = m.group(1)
            if name not in own and name not in called:
                called.append(name)
    if not called:
        return []
    dirs = {p.rpartition("/")[0] for p in records}
    families = {FAMILY[r.language] for r in records.values()}
    siblings = [
        rel
        for rel in walk.files
        if rel not in records
        and FAMILY[walk.languages[rel]] in families
        and rel.rpartition("/")[0] in dirs
        and not is_test_file(rel, walk.languages[rel])
    ]
    out: list[CalleeSignature] = []
    for name in called:
        holder = next((rec for rec in records.values() if name in rec.functions()), None)
        if holder is None:
            holder = _defined_in(index, siblings, name)
        if holder is not None:
            path, unit = holder.path, holder.functions()[name]
            out.append(
                CalleeSignature(
                    path=path, name=unit.name, signature=unit.signature, line=unit.start_line
                )
            )
        if len(out) >= MAX_CALLEES:
            break
    return out


def called_in(text: str, found: list[CalleeSignature]) -> list[CalleeSignature]:
    """Those of ``found`` that ``text`` calls: the slice lists the signatures of the functions
    its shown lines call, not those called only in elided lines (the drafter, which is given the
    units whole, gets them all)."""
    calls = {m.group(1) for m in _CALL.finditer(text)}
    return [c for c in found if _LAST_NAME.split(c.name)[-1] in calls]


_LAST_NAME = re.compile(r"[.:>\s]+")


def _defined_in(index: RepoIndex, files: list[str], name: str) -> FileRecord | None:
    """The first of ``files`` defining function ``name``. A file whose text never spells the
    name as a whole identifier cannot define it, and is left unparsed."""
    spelled = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
    for rel in files:
        text = index.source_text(rel)
        if text is None or name not in text or spelled.search(text) is None:
            continue
        found = index.record(rel)
        if isinstance(found, FileRecord) and name in found.functions():
            return found
    return None
