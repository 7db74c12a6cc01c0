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
    pool: list[FileRecord] = list(records.values())
    for rel in walk.files:
        language = walk.languages[rel]
        if (
            rel in records
            or FAMILY[language] not in families
            or rel.rpartition("/")[0] not in dirs
            or is_test_file(rel, language)
        ):
            continue
        found = index.record(rel)
        if isinstance(found, FileRecord):
            pool.append(found)
    out: list[CalleeSignature] = []
    for name in called:
        holder = next((rec for rec in pool if name in rec.functions()), None)
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
