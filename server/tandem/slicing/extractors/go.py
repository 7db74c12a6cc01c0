"""Go units: functions, methods (``Recv.Method``), declarations; Test/Benchmark/Fuzz/Example."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tandem.slicing.extractors.base import Extractor, line_of

if TYPE_CHECKING:
    from tree_sitter import Node

GO_TEST_NAME = re.compile(r"^(Test|Benchmark|Fuzz|Example)([^a-z].*)?$")


class GoExtractor(Extractor):
    """Go units: functions, methods (``Recv.Method``), declarations; Test/Benchmark/Fuzz/Example."""

    def item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        t = node.type
        if t in ("function_declaration", "method_declaration"):
            name = self.text(node.child_by_field_name("name"))
            recv = ""
            if t == "method_declaration":
                recv = receiver_type(node, self)
            is_test = self.test_file and bool(GO_TEST_NAME.match(name)) and name != "TestMain"
            self.function(
                node,
                start,
                f"{recv}.{name}" if recv else name,
                node.child_by_field_name("body"),
                container=recv,
                test_region=False,
                is_test=is_test,
            )
            return
        if t == "type_declaration":
            specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
            if len(specs) == 1:
                spec = specs[0]
                name = self.text(spec.child_by_field_name("name"))
                typ = spec.child_by_field_name("type")
                body = None
                if typ is not None and typ.type in ("struct_type", "interface_type"):
                    body = next(
                        (c for c in typ.children if c.type in ("field_declaration_list", "{")),
                        None,
                    )
                if body is not None and typ is not None:
                    self.header(node, start, name, body, test_region=False, container="")
                    members = body.named_children if body.type != "{" else typ.named_children
                    for m in members:
                        if m.type in ("comment",):
                            continue
                        mname = self.text(m.child_by_field_name("name")) or f"<{m.type}>"
                        self.statement(
                            m, line_of(m), f"{name}.{mname}", test_region=False, container=name
                        )
                    return
                self.statement(node, start, name, test_region=False, container="")
                return
        if t == "import_declaration":
            self.statement(node, start, "<import>", test_region=False, container="")
            return
        if t in ("const_declaration", "var_declaration"):
            first = node.named_children[0] if node.named_children else None
            nm = self.text(first.child_by_field_name("name")) if first is not None else ""
            self.statement(node, start, nm or f"<{t}>", test_region=False, container="")
            return
        self.statement(node, start, f"<{t}>", test_region=False, container="")


def receiver_type(node: Node, ex: Extractor) -> str:
    recv = node.child_by_field_name("receiver")
    text = ex.text(recv).strip("()")
    parts = text.replace("*", " ").split()
    typ = parts[-1] if parts else ""
    return typ.split("[")[0]
