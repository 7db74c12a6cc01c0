"""The declaration walk every language shares: leading comments, decorators and attributes,
error recovery, and how a function, a class header or a statement becomes a :class:`Unit`.

Each language's extractor (a subclass) says what one declaration-level item is: ``item``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.slicing.languages import FAMILY, LanguageName
from tandem.slicing.units import CLASS, FUNCTION, STATEMENT, Unit, is_test_file

if TYPE_CHECKING:
    from tree_sitter import Node

_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})


def line_of(node: Node) -> int:
    return node.start_point.row + 1


def end_line_of(node: Node) -> int:
    # A node ending at column 0 ends on the previous line (its trailing newline).
    end = node.end_point
    return end.row if end.column == 0 and end.row > node.start_point.row else end.row + 1


class Extractor:
    """Collects the units of one file; subclasses read one language's declarations."""

    def __init__(self, path: str, data: bytes, language: LanguageName) -> None:
        self.path = path
        self.data = data
        self.language = language
        self.family = FAMILY[language]
        self.sep = "::" if self.family == "rust" else "."
        self.test_file = is_test_file(path, language)
        self.units: list[Unit] = []

    # ---- helpers -------------------------------------------------------------------------
    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def signature(self, node: Node, body: Node | None) -> str:
        end = body.start_byte if body is not None else node.end_byte
        raw = self.data[node.start_byte : end].decode("utf-8", "replace")
        sig = " ".join(raw.split()).rstrip("{: ").strip()
        return sig[:300]

    def add(
        self,
        name: str,
        kind: str,
        start: int,
        end: int,
        *,
        signature: str = "",
        is_test: bool = False,
        test_region: bool = False,
        container: str = "",
        definition_end: int = 0,
    ) -> None:
        if not name.strip() or name.endswith((".", "::", "> ")):
            # Error recovery can leave a definition whose name is missing (an empty node).
            name = f"{name}<{kind}>"
        self.units.append(
            Unit(
                name=name,
                kind=kind,
                start_line=start,
                end_line=max(start, end),
                signature=signature,
                is_test=is_test,
                in_test_region=test_region or is_test,
                container=container,
                definition_end=definition_end,
            )
        )

    # ---- declaration walk ------------------------------------------------------------------
    def walk_container(
        self, children: list[Node], *, prefix: str, container: str, test_region: bool
    ) -> None:
        lead: list[Node] = []  # comments, attributes and decorators waiting for their item
        last = 0  # the line the previous item (or token) ends on
        for child in children:
            kind = child.type
            if kind == "ERROR":
                self.walk_container(
                    child.children, prefix=prefix, container=container, test_region=test_region
                )
                lead = []
                last = end_line_of(child)
                continue
            if kind in ("comment", "line_comment", "block_comment"):
                if not lead and line_of(child) == last:
                    continue  # ``int x; // note``: it trails the item before, not the next one
                if lead and line_of(child) > end_line_of(lead[-1]) + 1:
                    lead = []
                lead.append(child)
                continue
            if kind in ("attribute_item", "decorator"):
                lead.append(child)
                continue
            last = end_line_of(child)
            if not child.is_named:
                lead = []
                continue
            if lead and line_of(child) > end_line_of(lead[-1]) + 1:
                lead = [n for n in lead if n.type not in ("comment", "line_comment")]
            start = line_of(lead[0]) if lead else line_of(child)
            # Attributes and decorators only: a doc comment's example (``/// #[test]``) is no
            # attribute of the item it documents.
            attrs = "\n".join(self.text(n) for n in lead if n.type not in _COMMENTS)
            self.item(child, start, attrs, prefix, container, test_region)
            lead = []

    def item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        """Read one declaration-level node (its leading comments and attributes start at
        ``start``; ``attrs`` is their text)."""
        raise NotImplementedError

    def finish(self, root_children: list[Node]) -> None:
        """Anything read after the declaration walk (JS/TS test calls); nothing by default."""

    def header(
        self,
        node: Node,
        start: int,
        name: str,
        body: Node | None,
        *,
        test_region: bool,
        container: str,
        header_end: int | None = None,
    ) -> None:
        end = (
            header_end if header_end is not None else (line_of(body) if body else end_line_of(node))
        )
        self.add(
            name,
            CLASS,
            start,
            end,
            signature=self.signature(node, body),
            test_region=test_region,
            container=container,
            definition_end=end_line_of(node),
        )

    def function(
        self,
        node: Node,
        start: int,
        name: str,
        body: Node | None,
        *,
        container: str,
        test_region: bool,
        is_test: bool = False,
        sig_node: Node | None = None,
    ) -> None:
        self.add(
            name,
            FUNCTION,
            start,
            end_line_of(node),
            signature=self.signature(sig_node or node, body),
            is_test=is_test,
            test_region=test_region,
            container=container,
        )

    def statement(
        self, node: Node, start: int, name: str, *, test_region: bool, container: str
    ) -> None:
        self.add(
            name, STATEMENT, start, end_line_of(node), test_region=test_region, container=container
        )
