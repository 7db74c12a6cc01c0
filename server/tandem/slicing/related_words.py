"""Names as the related-test ranking compares them: split into words, normalised, stop words out."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable

# Words of an identifier in any naming style: ``HTTPServer2`` -> http, server, 2.
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Identifiers too common in code to tie a test to a change.
_STOP_TEXT = """
    self this cls super None True False true false null nil undefined return def func fn let
    const var function class new if else for while in is not and or import from package use pub
    mut impl struct type interface public private protected static void int string bool err
    assert expect test it describe t ok Ok Err Some String str len await async the a an of to
    with by on at as be get set value name args kwargs result res data item items val key list
    map obj object options opts ctx context error errors any unknown number boolean final
    return_value tests mod super crate Self __all__"""
_STOP = frozenset(_STOP_TEXT.split())
# Words too common in names to count as shared vocabulary.
_WORD_STOP_TEXT = """
    the a an of to in is it be as at by on or and not for with from this that test tests
    should when then does do can are was has have if else get set new true false none null nil
    self cls return def fn func let const var mut pub use mod impl type struct class string str
    int bool err ok assert expect describe value values name names data item items key keys val
    result results error errors case cases check checks string strings list lists"""
WORD_STOP = frozenset(_WORD_STOP_TEXT.split())


def words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


@functools.lru_cache(maxsize=262_144)
def norm(ident: str) -> str:
    """Identifiers compared across naming styles: ``ProgressBar`` ~ ``progressbar``."""
    return ident.lower().replace("_", "").replace("$", "")


@functools.lru_cache(maxsize=262_144)
def ident_tokens(ident: str) -> frozenset[str]:
    """The words of an identifier and its normalised form."""
    return frozenset([*words(ident), norm(ident)])


def name_tokens(name: str) -> set[str]:
    """The words of a name plus each pair of neighbouring words joined (``pager``+``cmd``)."""
    ws = words(name)
    out = set(ws)
    out.update(a + b for a, b in itertools.pairwise(ws))
    return out


def tokens_of(idents: Iterable[str]) -> set[str]:
    """The words and normalised forms of ``idents``."""
    return set().union(*map(ident_tokens, idents))


def usable(name: str) -> bool:
    """Whether a name can tie a test to a change: not a stop word, not a made-up ``<name>``."""
    return len(name) >= 2 and name not in _STOP and not name.startswith("<")
