"""Load the plan/draft/review prompts from ``prompts/`` and render them; version = content hash.

The folder ships inside the wheel as ``tandem/prompts``; from a checkout it is ``prompts/`` at the
repository root. Rendering is plain ``{{name}}`` substitution (no template engine: the prompts
are short and the substitution must be predictable). An unfilled placeholder is an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tandem.values import StepName

_SYSTEM_MARK = "<!-- system -->"
_USER_MARK = "<!-- user -->"
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")


class PromptError(Exception):
    """A prompt file that is missing or malformed, or a render that left a placeholder."""


@cache
def prompts_dir() -> Path:
    """``tandem/prompts`` in an installed wheel, else ``prompts/`` of the checkout (found once
    per process: estimates ask for it on every hover)."""
    packaged = Path(__file__).resolve().parents[1] / "prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "prompts"


@dataclass(frozen=True)
class PromptTemplate:
    name: StepName
    system: str
    user: str
    version: str

    @property
    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.system + self.user))


@dataclass(frozen=True)
class RenderedPrompt:
    name: StepName
    system: str
    user: str
    version: str


def prompt_version(content: bytes) -> str:
    """A prompt's version: the first 12 hex digits of its sha256."""
    return hashlib.sha256(content).hexdigest()[:12]


def parse_prompt(name: StepName, content: str) -> PromptTemplate:
    if _SYSTEM_MARK not in content or _USER_MARK not in content:
        raise PromptError(f"prompt {name}: needs '{_SYSTEM_MARK}' and '{_USER_MARK}' sections")
    _, rest = content.split(_SYSTEM_MARK, 1)
    system, user = rest.split(_USER_MARK, 1)
    return PromptTemplate(
        name=name,
        system=system.strip() + "\n",
        user=user.strip() + "\n",
        version=prompt_version(content.encode("utf-8")),
    )


@cache
def _load_cached(name: StepName, directory: Path) -> PromptTemplate:
    path = directory / f"{name}.md"
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PromptError(f"prompt {name}: cannot read {path}: {error.strerror}") from error
    return parse_prompt(name, content)


def load_prompt(name: StepName, directory: Path | None = None) -> PromptTemplate:
    return _load_cached(name, directory or prompts_dir())


def render(template: PromptTemplate, values: dict[str, str]) -> RenderedPrompt:
    """Fill every ``{{name}}``; a missing value raises :class:`PromptError`."""
    missing = sorted(template.placeholders - set(values))
    if missing:
        raise PromptError(f"prompt {template.name}: no value for {', '.join(missing)}")

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)

    return RenderedPrompt(
        name=template.name,
        system=fill(template.system),
        user=fill(template.user),
        version=template.version,
    )
