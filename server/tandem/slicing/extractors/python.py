"""Python units: functions and methods (with decorators), classes, statements; pytest tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.slicing.extractors.base import Extractor, line_of

if TYPE_CHECKING:
    from tree_sitter import Node


class PythonExtractor(Extractor):
    """Python units: functions and methods (with decorators), classes, statements; pytest tests."""

    def item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        target = node
        if node.type == "decorated_definition":
            target = node.child_by_field_name("definition") or node
        if target.type == "function_definition":
            name = self.text(target.child_by_field_name("name"))
            is_test = self.test_file and name.startswith("test")
            self.function(
                node,
                start,
                prefix + name,
                target.child_by_field_name("body"),
                container=container,
                test_region=False,
                is_test=is_test,
                sig_node=target,
            )
            return
        if target.type == "class_definition":
            name = self.text(target.child_by_field_name("name"))
            body = target.child_by_field_name("body")
            colon = next((c for c in target.children if c.type == ":"), None)
            self.header(
                node,
                start,
                prefix + name,
                body,
                test_region=False,
                container=container,
                header_end=line_of(colon) if colon is not None else None,
            )
            if body is not None:
                self.walk_container(
                    body.children, prefix=f"{prefix}{name}.", container=name, test_region=False
                )
            return
        self.statement(
            node,
            start,
            prefix + self._python_statement_name(node),
            test_region=False,
            container=container,
        )

    def _python_statement_name(self, node: Node) -> str:
        if node.type in ("import_statement", "import_from_statement", "future_import_statement"):
            return "<import>"
        if node.type == "expression_statement" and node.named_children:
            first = node.named_children[0]
            if first.type == "string":
                return "<docstring>"
            if first.type in ("assignment", "augmented_assignment"):
                left = first.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    return self.text(left)
        return f"<{node.type}>"
