"""The redactor: non-overlapping secret spans replaced by stable placeholders, per request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tandem.redaction.placeholders import placeholder
from tandem.redaction.rules import all_rules, is_valid_jwt
from tandem.redaction.values import assignment_spans, is_placeholder_value


@dataclass(frozen=True)
class RedactionResult:
    """The redacted text and how many secrets of each kind were replaced (never the values)."""

    text: str
    findings: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.findings.values())


def _candidates(text: str) -> Iterator[tuple[int, int, str | None]]:
    """Every match of every rule, in priority order (specific rules before assignments).

    A match that turns out to be an example or a placeholder is yielded with kind None: it
    claims its span, so a looser rule cannot match a piece of it as a secret.
    """
    lower = text.lower()
    for rule in all_rules():
        haystack = lower if rule.fold else text
        if rule.needles and not any(needle in haystack for needle in rule.needles):
            continue
        for match in rule.pattern.finditer(text):
            group: int | str = rule.group
            if isinstance(group, int) and group and match.group(group) is None:
                group = next((g for g in range(1, len(match.groups()) + 1) if match.group(g)), 0)
            start, end = match.span(group)
            start -= rule.extend_back
            value = text[start:end].strip(" \t\r\n=:\"'")
            if not value:
                continue
            start = text.index(value, start)
            end = start + len(value)
            if (
                (rule.bounded and _inside_a_run(text, start, end))
                or (rule.check_example and is_placeholder_value(value))
                or (rule.kind == "jwt" and not is_valid_jwt(value))
                or (rule.validate is not None and not rule.validate(value))
            ):
                yield start, end, None
                continue
            yield start, end, rule.kind
    yield from assignment_spans(text, lower)


def _inside_a_run(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return before.isalnum() or after.isalnum()


def _choose(candidates: Iterable[tuple[int, int, str | None]]) -> list[tuple[int, int, str]]:
    """Non-overlapping secret spans; an earlier (higher-priority) candidate wins an overlap."""
    taken: list[tuple[int, int, str | None]] = []
    for start, end, kind in candidates:
        if any(start < t_end and t_start < end for t_start, t_end, _ in taken):
            continue
        taken.append((start, end, kind))
    return sorted((start, end, kind) for start, end, kind in taken if kind is not None)


class Redactor:
    """Redacts the texts of one request; a value keeps its placeholder across those texts."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._numbers: Counter[str] = Counter()
        self.findings: Counter[str] = Counter()

    def _placeholder(self, kind: str, value: str) -> str:
        known = self._placeholders.get(value)
        if known is None:
            self._numbers[kind] += 1
            known = placeholder(kind, self._numbers[kind])
            self._placeholders[value] = known
        return known

    def redact(self, text: str) -> RedactionResult:
        spans = _choose(_candidates(text))
        found: Counter[str] = Counter()
        parts: list[str] = []
        cursor = 0
        for start, end, kind in spans:
            parts.append(text[cursor:start])
            parts.append(self._placeholder(kind, text[start:end]))
            found[kind] += 1
            cursor = end
        parts.append(text[cursor:])
        self.findings.update(found)
        return RedactionResult(text="".join(parts), findings=dict(sorted(found.items())))

    @property
    def count(self) -> int:
        return sum(self.findings.values())


def redact(text: str) -> RedactionResult:
    """Redact one text on its own (a fresh numbering)."""
    return Redactor().redact(text)


@dataclass(frozen=True)
class RedactedPrompt:
    """A prompt's system and user text as they may leave, and what was replaced in them."""

    system: str
    user: str
    findings: dict[str, int]

    @property
    def count(self) -> int:
        return sum(self.findings.values())


def redact_prompt(system: str, user: str) -> RedactedPrompt:
    """Redact both parts of one request with one numbering (a value keeps its placeholder)."""
    redactor = Redactor()
    redacted_system = redactor.redact(system).text
    redacted_user = redactor.redact(user).text
    return RedactedPrompt(redacted_system, redacted_user, dict(sorted(redactor.findings.items())))


def findings_text(findings: dict[str, int]) -> str:
    """``3 (aws-access-key-id 1, password 2)``, or ``0``."""
    total = sum(findings.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{k} {n}" for k, n in sorted(findings.items())) + ")"
