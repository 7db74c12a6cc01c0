"""How risky a change is: a tier (low | medium | high) and the reasons, each a short sentence.

Four kinds of evidence, all explainable to the user: path rules from settings (auth, billing,
migrations...), content signals found with tree-sitter in the touched code (SQL, subprocess and
eval, crypto and tokens, locks and threads, exported API), the size of the change, and whether
related tests exist. The tier is the highest any reason asks for, raised one step when nothing
tests the change (if ``risk.untested_raises_tier``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from tandem.config import RiskSettings
from tandem.slicing.extract import parse
from tandem.slicing.languages import language_for_path
from tandem.values import TIER_ORDER, RiskTier

if TYPE_CHECKING:
    import pathspec
    from tree_sitter import Node, Tree

MANY_FILES = 3
"""A change spread over more files than this is at least medium: harder to review as one."""

ReasonKind = Literal["path", "content", "size", "tests"]


@dataclass(frozen=True)
class RiskReason:
    kind: ReasonKind
    tier: RiskTier
    message: str


@dataclass(frozen=True)
class Risk:
    tier: RiskTier
    reasons: tuple[RiskReason, ...]

    @property
    def messages(self) -> list[str]:
        return [reason.message for reason in self.reasons]


@dataclass(frozen=True)
class TouchedFile:
    """A file of the change: its text and the 1-based inclusive line ranges touched; ``tree``,
    when the caller keeps the text parsed (an open buffer), saves parsing it again."""

    path: str
    text: str | None
    ranges: tuple[tuple[int, int], ...]
    units: tuple[str, ...] = field(default=())
    tree: Tree | None = field(default=None, compare=False, repr=False)

    @property
    def lines(self) -> int:
        return sum(end - start + 1 for start, end in self.ranges)


def _max_tier(tiers: Sequence[RiskTier]) -> RiskTier:
    return max(tiers, key=TIER_ORDER.index, default="low")


def raise_tier(tier: RiskTier) -> RiskTier:
    return TIER_ORDER[min(TIER_ORDER.index(tier) + 1, len(TIER_ORDER) - 1)]


@lru_cache(maxsize=1024)
def _glob_spec(glob: str) -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines([glob])


def path_reasons(paths: Sequence[str], settings: RiskSettings) -> list[RiskReason]:
    """One reason per (rule, first matching path), gitignore-style globs on repo paths."""
    reasons: list[RiskReason] = []
    for rule in settings.path_rules:
        spec = _glob_spec(rule.glob)
        matched = next((path for path in paths if spec.match_file(path)), None)
        if matched is not None:
            message = f"{matched} is {rule.reason} (rule {rule.glob})"
            reasons.append(RiskReason("path", rule.tier, message))
    return reasons


_SQL = re.compile(
    r"\b(select\b.+\bfrom|insert\s+into|update\b.+\bset|delete\s+from|create\s+table|"
    r"alter\s+table|drop\s+table)\b",
    re.IGNORECASE | re.DOTALL,
)
_EXEC_CALLS = re.compile(
    r"^(eval|exec|os\.system|os\.popen|subprocess\.\w+|child_process\.\w+|execSync|spawn|"
    r"exec\.Command|Command::new|Runtime\.getRuntime\(\)\.exec|pickle\.loads?|yaml\.load|"
    r"new Function|Function)$"
)
_CRYPTO = re.compile(
    r"(hashlib|hmac|bcrypt|scrypt|argon2|crypto|cipher|encrypt|decrypt|jwt|secret|password|"
    r"passwd|api_?key|token$|private_?key|signature)",
    re.IGNORECASE,
)
_CONCURRENCY = re.compile(
    r"^(threading|Thread|Lock|RLock|Semaphore|Condition|Mutex|RwLock|Arc|sync|atomic|"
    r"asyncio|create_task|gather|ThreadPoolExecutor|ProcessPoolExecutor|multiprocessing|"
    r"synchronized|ReentrantLock|Worker|WaitGroup)$"
)
_STRING_TYPES = {"string", "template_string", "interpreted_string_literal", "raw_string_literal"}
_STRING_TYPES |= {"string_literal", "text_block", "string_content"}
_FORMATTED = {"interpolation", "template_substitution"}
_CALL_TYPES = {"call", "call_expression", "method_invocation", "new_expression"}
_IDENTIFIER_TYPES = {"identifier", "property_identifier", "type_identifier", "field_identifier"}
_EXPORT_WRAPPERS = {"export_statement"}


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def _overlaps(node: Node, ranges: Sequence[tuple[int, int]]) -> bool:
    start, end = node.start_point.row + 1, node.end_point.row + 1
    return any(start <= high and end >= low for low, high in ranges)


def _inside(node: Node, ranges: Sequence[tuple[int, int]]) -> bool:
    start, end = node.start_point.row + 1, node.end_point.row + 1
    return any(start >= low and end <= high for low, high in ranges)


def _top_level(root: Node, ranges: Sequence[tuple[int, int]]) -> Iterator[Node]:
    """The root's children overlapping a range, in order, found with a cursor: a file's
    thousand top-level items are not all made into nodes to find the few touched."""
    cursor = root.walk()
    last = -1
    for low, high in sorted(ranges):
        # A child ending at column 0 of the line before ``low`` still overlaps it: start earlier.
        if cursor.goto_first_child_for_point((max(0, low - 3), 0)) is None:
            continue
        while True:
            node = cursor.node
            if node is None or node.start_point.row + 1 > high:
                break
            if node.start_byte > last and _overlaps(node, ranges):
                last = node.start_byte
                yield node
            if not cursor.goto_next_sibling():
                break
        cursor.goto_parent()


def _nodes_within(root: Node, ranges: Sequence[tuple[int, int]]) -> Iterator[Node]:
    """Nodes lying wholly inside one of the 1-based line ranges, depth first.

    Subtrees that miss every range are never entered: a small edit in a large file costs a walk
    of the part around the edit, not of the whole tree.
    """
    if not _overlaps(root, ranges):
        return
    if _inside(root, ranges):
        yield root
    stack = list(reversed(list(_top_level(root, ranges))))
    while stack:
        node = stack.pop()
        if not _overlaps(node, ranges):
            continue
        if _inside(node, ranges):
            yield node
        stack.extend(reversed(node.children))


def _is_exported(node: Node, language: str) -> bool:
    """A definition other code may depend on: export, pub, public, a capital Go name."""
    parent = node.parent
    if language in ("javascript", "typescript", "tsx"):
        return parent is not None and parent.type in _EXPORT_WRAPPERS
    if language == "rust":
        return any(child.type == "visibility_modifier" for child in node.children)
    if language == "java":
        modifiers = next((c for c in node.children if c.type == "modifiers"), None)
        return modifiers is not None and "public" in _text(modifiers).split()
    if language == "go" and node.type in ("function_declaration", "method_declaration"):
        name = node.child_by_field_name("name")
        return name is not None and _text(name)[:1].isupper()
    if language == "python" and parent is not None and parent.type == "decorated_definition":
        decorators = " ".join(_text(c) for c in parent.children if c.type == "decorator")
        return bool(re.search(r"\.(route|get|post|put|patch|delete|api_view)\b", decorators))
    return False


_DEFINITION_TYPES = {
    "function_definition",
    "function_declaration",
    "method_declaration",
    "method_definition",
    "class_declaration",
    "function_item",
    "struct_item",
    "interface_declaration",
}


def content_reasons(file: TouchedFile) -> list[RiskReason]:
    """Signals inside the touched ranges of one file, one reason per kind of signal."""
    language = language_for_path(file.path)
    if file.text is None or language is None or not file.ranges:
        return []
    found: dict[str, RiskReason] = {}

    def note(key: str, tier: RiskTier, message: str) -> None:
        found.setdefault(key, RiskReason("content", tier, message))

    tree = file.tree if file.tree is not None else parse(file.text, language)
    for node in _nodes_within(tree.root_node, file.ranges):
        line = node.start_point.row + 1
        where = f"{file.path}:{line}"
        if node.type in _STRING_TYPES and _SQL.search(_text(node)):
            formatted = any(child.type in _FORMATTED for child in node.children)
            if formatted:
                note("sql-format", "high", f"SQL built by string formatting at {where}")
            else:
                note("sql", "medium", f"SQL statement at {where}")
        elif node.type in _CALL_TYPES:
            function = node.child_by_field_name("function") or node.child_by_field_name("name")
            called = _text(function) if function is not None else ""
            if node.type == "new_expression":
                constructor = node.child_by_field_name("constructor")
                called = "new " + _text(constructor) if constructor is not None else called
            if _EXEC_CALLS.match(called):
                note("exec", "high", f"runs code or commands ({called}) at {where}")
        elif node.type in _IDENTIFIER_TYPES:
            name = _text(node)
            if _CRYPTO.search(name):
                note("crypto", "high", f"handles crypto, tokens or secrets ({name}) at {where}")
            elif _CONCURRENCY.match(name):
                note("concurrency", "medium", f"uses locks, threads or async ({name}) at {where}")
        elif node.type == "go_statement":
            note("concurrency", "medium", f"starts a goroutine at {where}")
        elif node.type in _DEFINITION_TYPES and _is_exported(node, language):
            name_node = node.child_by_field_name("name")
            name = _text(name_node) if name_node is not None else "a definition"
            note("api", "medium", f"changes exported API ({name}) at {where}")
    return list(found.values())


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def size_reasons(files: Sequence[TouchedFile], settings: RiskSettings) -> list[RiskReason]:
    lines = sum(file.lines for file in files)
    units = sum(len(file.units) for file in files)
    summary = (
        f"{_count(lines, 'line')} in {_count(units, 'unit')} across {_count(len(files), 'file')}"
    )
    if lines > settings.high_above_lines:
        return [RiskReason("size", "high", f"large change: {summary}")]
    if lines > settings.medium_above_lines:
        return [RiskReason("size", "medium", f"sizeable change: {summary}")]
    if len(files) > MANY_FILES:
        return [RiskReason("size", "medium", f"spread over many files: {summary}")]
    return [RiskReason("size", "low", f"small change: {summary}")]


def assess_risk(
    files: Sequence[TouchedFile], settings: RiskSettings, *, has_related_tests: bool
) -> Risk:
    """The tier and every reason for it."""
    reasons = path_reasons([file.path for file in files], settings)
    if settings.content_signals:
        for file in files:
            reasons.extend(content_reasons(file))
    reasons.extend(size_reasons(files, settings))
    tier = _max_tier([reason.tier for reason in reasons])
    if not has_related_tests:
        if settings.untested_raises_tier:
            raised = raise_tier(tier)
            message = (
                f"no related tests found: one tier riskier ({tier} → {raised})"
                if raised != tier
                else "no related tests found (already high)"
            )
            reasons.append(RiskReason("tests", raised, message))
            tier = raised
        else:
            reasons.append(RiskReason("tests", "low", "no related tests found"))
    return Risk(tier=tier, reasons=tuple(reasons))
