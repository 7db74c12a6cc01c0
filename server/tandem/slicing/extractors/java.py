"""Java units: methods, constructors, class headers, fields; @Test and its family, JUnit 3."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tandem.slicing.extractors.base import Extractor
from tandem.slicing.units import FUNCTION, Unit

if TYPE_CHECKING:
    from tree_sitter import Node

JAVA_TEST_ANNOTATIONS = frozenset({"Test", "ParameterizedTest", "RepeatedTest", "TestFactory"})


class JavaExtractor(Extractor):
    """Java units: methods, constructors, class headers, fields; @Test and its family, JUnit 3."""

    def item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        t = node.type
        if t in (
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
            "annotation_type_declaration",
        ):
            name = self.text(node.child_by_field_name("name"))
            body = node.child_by_field_name("body")
            self.header(node, start, prefix + name, body, test_region=False, container=container)
            if body is not None:
                junit3 = bool(re.search(r"extends\s+\w*TestCase\b", self.signature(node, body)))
                members: list[Node] = []
                for c in body.children:
                    if c.type == "enum_body_declarations":
                        members.extend(c.children)
                    else:
                        members.append(c)
                before = len(self.units)
                self.walk_container(
                    members, prefix=f"{prefix}{name}.", container=name, test_region=False
                )
                if junit3:
                    self._java_junit3(before)
            return
        if t in (
            "method_declaration",
            "constructor_declaration",
            "compact_constructor_declaration",
        ):
            name = self.text(node.child_by_field_name("name"))
            is_test = self.test_file and self._java_is_test(node)
            self.function(
                node,
                start,
                prefix + name,
                node.child_by_field_name("body"),
                container=container,
                test_region=False,
                is_test=is_test,
            )
            return
        if t in ("field_declaration", "constant_declaration"):
            decl = node.child_by_field_name("declarator")
            nm = self.text(decl.child_by_field_name("name")) if decl is not None else ""
            self.statement(
                node, start, prefix + (nm or f"<{t}>"), test_region=False, container=container
            )
            return
        if t == "enum_constant":
            nm = self.text(node.child_by_field_name("name"))
            self.statement(node, start, prefix + nm, test_region=False, container=container)
            return
        if t == "import_declaration":
            self.statement(node, start, prefix + "<import>", test_region=False, container=container)
            return
        self.statement(node, start, prefix + f"<{t}>", test_region=False, container=container)

    def _java_is_test(self, node: Node) -> bool:
        for c in node.children:
            if c.type == "modifiers":
                for m in c.named_children:
                    if m.type in ("marker_annotation", "annotation"):
                        nm = self.text(m.child_by_field_name("name")).split(".")[-1]
                        if nm in JAVA_TEST_ANNOTATIONS:
                            return True
        return False

    def _java_junit3(self, since: int) -> None:
        for i in range(since, len(self.units)):
            u = self.units[i]
            if (
                u.kind == FUNCTION
                and self.test_file
                and u.simple_name.startswith("test")
                and re.match(r"public\s+void\s+test", u.signature)
            ):
                self.units[i] = Unit(
                    name=u.name,
                    kind=u.kind,
                    start_line=u.start_line,
                    end_line=u.end_line,
                    signature=u.signature,
                    is_test=True,
                    in_test_region=True,
                    container=u.container,
                    definition_end=u.definition_end,
                )
