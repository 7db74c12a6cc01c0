"""The signatures of the functions the touched code calls, looked up in the changed folders."""

from __future__ import annotations

import keyword
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
# Words a language reserves: ``if (x)``, ``return (y)`` or ``func(z)`` is no call, and valid
# code in that language names no function or method so. Looking one up found nothing and parsed
# every sibling file that spells the word (10-17 files of commons-lang per slice; issue 19).
# Not for JavaScript/TypeScript, where a member may be named so (zod's ``with(...checks)``).
_RESERVED_TEXT = {
    "java": """abstract assert boolean break byte case catch char class const continue default do
        double else enum extends final finally float for goto if implements import instanceof
        int interface long native new package private protected public return short static
        strictfp super switch synchronized this throw throws transient try void volatile while
        true false null""",
    "go": """break case chan const continue default defer else fallthrough for func go goto if
        import interface map package range return select struct switch type var""",
    "rust": """as async await break const continue crate dyn else enum extern false fn for if
        impl in let loop match mod move mut pub ref return self Self static struct super trait
        true type unsafe use where while""",
    "python": " ".join(keyword.kwlist),
}
_RESERVED = {family: frozenset(text.split()) for family, text in _RESERVED_TEXT.items()}
# Receivers of the language's standard library: ``Math.ceil(x)``, ``Object.getPrototypeOf(o)``,
# ``Vec::new()`` or ``strings.Split(s)`` call the library, never the repository's function of
# that name, whose signature would mislead the drafter.
_LIBRARY_TEXT = {
    "js": """Array BigInt Buffer Date Error JSON Map Math Number Object Promise Proxy Reflect
        RegExp Set String Symbol WeakMap WeakSet console document globalThis process window""",
    "java": """Arrays Boolean Character Collections Collectors Double Integer List Long Map Math
        Objects Optional Set Stream String System Thread""",
    "python": """collections datetime functools itertools json logging math os path re shutil
        subprocess sys time typing""",
    "go": """bytes errors filepath fmt io math os reflect sort strconv strings sync time""",
    "rust": """Arc BTreeMap Box Cell HashMap HashSet Mutex Option Path PathBuf Rc RefCell String
        Vec alloc core fmt io mem ptr std""",
}
_LIBRARY = {family: frozenset(text.split()) for family, text in _LIBRARY_TEXT.items()}
_RECEIVER = re.compile(r"(\w*)\s*(?:\.|::)\s*$")


# Where a call without a receiver (``has(x)``, not ``obj.has(x)``) reaches only functions outside
# any class or object: a method needs its receiver (Java's bare calls reach the class's methods).
_BARE_REACHES_FREE_FUNCTIONS = frozenset({"js", "python", "go", "rust"})


def _receiver(body: str, at: int) -> str | None:
    """The receiver of the call whose name starts at ``at`` (``Math`` in ``Math.ceil(``; ``""``
    when it is an expression, as in ``items().map(``), or None for a bare call."""
    found = _RECEIVER.search(body, max(0, at - 40), at)
    return found.group(1) if found is not None else None


def callees(
    index: RepoIndex,
    walk: RepoFiles,
    records: dict[str, FileRecord],
    touched: list[tuple[str, Unit]],
) -> list[CalleeSignature]:
    """Functions called by the touched functions, defined in a changed file or a non-test file
    beside one, in the order first called; at most ``MAX_CALLEES``."""
    called: list[str] = []
    member_calls: set[str] = set()  # names called on a receiver at least once
    own = {u.simple_name for _, u in touched}
    for path, unit in touched:
        if unit.kind != "function":
            continue
        rec = records[path]
        family = FAMILY[rec.language]
        reserved = _RESERVED.get(family, frozenset())
        library = _LIBRARY.get(family, frozenset())
        lines = rec.lines()[unit.start_line - 1 : unit.end_line]
        body = "\n".join(lines[1:]) if len(lines) > 1 else "\n".join(lines)
        for m in _CALL.finditer(body):
            name = m.group(1)
            if name in own or name in reserved:
                continue
            receiver = _receiver(body, m.start(1))
            if receiver in library:
                continue
            if receiver is not None or family not in _BARE_REACHES_FREE_FUNCTIONS:
                member_calls.add(name)
            if name not in called:
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
        free = name not in member_calls
        holder = next((rec for rec in records.values() if _defines(rec, name, free)), None)
        if holder is None:
            holder = _defined_in(index, siblings, name, free)
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


def _defines(rec: FileRecord, name: str, free: bool) -> bool:
    """Whether ``rec`` defines function ``name`` (with ``free``, outside any class or object)."""
    unit = rec.functions().get(name)
    return unit is not None and not (free and unit.container)


def _defined_in(index: RepoIndex, files: list[str], name: str, free: bool) -> FileRecord | None:
    """The first of ``files`` defining function ``name`` (``free``: as a free function). A file
    whose text never spells the name as a whole identifier cannot define it, and is left
    unparsed."""
    spelled = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
    for rel in files:
        text = index.source_text(rel)
        if text is None or name not in text or spelled.search(text) is None:
            continue
        found = index.record(rel)
        if isinstance(found, FileRecord) and _defines(found, name, free):
            return found
    return None
