"""JavaScript and TypeScript units: functions, classes and members, exports; it/test calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.slicing.extractors.base import Extractor, end_line_of, line_of
from tandem.slicing.units import FUNCTION

if TYPE_CHECKING:
    from tree_sitter import Node

JS_TEST_CALLS = frozenset({"it", "test"})
JS_SUITE_CALLS = frozenset({"describe", "suite", "context"})
JS_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)


class JavaScriptExtractor(Extractor):
    """JavaScript and TypeScript units: functions, classes and members, exports; it/test calls."""

    def finish(self, root_children: list[Node]) -> None:
        if self.test_file:
            self._tests(root_children, [])

    def item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        t = node.type
        if t == "export_statement":
            decl = node.child_by_field_name("declaration")
            if decl is not None:
                self._js_decl(node, decl, start, prefix, container)
                return
            value = node.child_by_field_name("value")
            if value is not None and value.type in JS_FUNCTION_VALUES | {"class"}:
                self._js_decl(node, value, start, prefix, container, name="default")
                return
            self.statement(node, start, prefix + "<export>", test_region=False, container=container)
            return
        self._js_decl(node, node, start, prefix, container)

    def _js_decl(
        self,
        outer: Node,
        node: Node,
        start: int,
        prefix: str,
        container: str,
        name: str | None = None,
    ) -> None:
        t = node.type
        if t in (
            "function_declaration",
            "generator_function_declaration",
            "function_signature",
            "function_expression",
            "function",
            "arrow_function",
            "method_definition",
            "method_signature",
            "abstract_method_signature",
        ):
            nm = name or self.text(node.child_by_field_name("name")) or "<anonymous>"
            self.function(
                outer,
                start,
                prefix + nm,
                node.child_by_field_name("body"),
                container=container,
                test_region=False,
                sig_node=outer,
            )
            return
        if t in (
            "class_declaration",
            "abstract_class_declaration",
            "class",
            "interface_declaration",
            "enum_declaration",
        ):
            nm = name or self.text(node.child_by_field_name("name")) or "<class>"
            body = node.child_by_field_name("body")
            self.header(outer, start, prefix + nm, body, test_region=False, container=container)
            if body is not None:
                self.walk_container(
                    body.named_children, prefix=f"{prefix}{nm}.", container=nm, test_region=False
                )
            return
        if t in ("internal_module", "module"):
            nm = self.text(node.child_by_field_name("name")).strip("'\"") or "<module>"
            body = node.child_by_field_name("body")
            self.header(outer, start, prefix + nm, body, test_region=False, container=container)
            if body is not None:
                self.walk_container(
                    body.named_children, prefix=f"{prefix}{nm}.", container=nm, test_region=False
                )
            return
        if t == "expression_statement" and node.named_children:
            inner = node.named_children[0]
            if inner.type in ("internal_module", "module"):
                self._js_decl(outer, inner, start, prefix, container)
                return
            if inner.type == "assignment_expression":
                right = inner.child_by_field_name("right")
                left = inner.child_by_field_name("left")
                if right is not None and right.type in JS_FUNCTION_VALUES:
                    self.function(
                        outer,
                        start,
                        prefix + self.text(left),
                        right.child_by_field_name("body"),
                        container=container,
                        test_region=False,
                        sig_node=outer,
                    )
                    return
        if t in ("lexical_declaration", "variable_declaration"):
            declarators = [c for c in node.named_children if c.type == "variable_declarator"]
            if declarators:
                d = declarators[0]
                nm = self.text(d.child_by_field_name("name"))
                value = d.child_by_field_name("value")
                if value is not None and value.type in JS_FUNCTION_VALUES:
                    self.function(
                        outer,
                        start,
                        prefix + nm,
                        value.child_by_field_name("body"),
                        container=container,
                        test_region=False,
                        sig_node=outer,
                    )
                    return
                if value is not None and value.type == "class":
                    self._js_decl(outer, value, start, prefix, container, name=nm)
                    return
                if (
                    value is not None
                    and value.type == "object"
                    and any(self._js_member_is_function(m) for m in value.named_children)
                ):
                    self.header(
                        outer, start, prefix + nm, value, test_region=False, container=container
                    )
                    self.walk_container(
                        value.named_children,
                        prefix=f"{prefix}{nm}.",
                        container=nm,
                        test_region=False,
                    )
                    return
                self.statement(outer, start, prefix + nm, test_region=False, container=container)
                return
        if t in ("public_field_definition", "field_definition", "pair"):
            key = (
                node.child_by_field_name("name")
                or node.child_by_field_name("property")
                or node.child_by_field_name("key")
            )
            nm = self.text(key)
            value = node.child_by_field_name("value")
            if value is not None and value.type in JS_FUNCTION_VALUES:
                self.function(
                    outer,
                    start,
                    prefix + nm,
                    value.child_by_field_name("body"),
                    container=container,
                    test_region=False,
                    sig_node=outer,
                )
                return
            self.statement(outer, start, prefix + nm, test_region=False, container=container)
            return
        if t == "import_statement":
            self.statement(
                outer, start, prefix + "<import>", test_region=False, container=container
            )
            return
        if t in ("type_alias_declaration", "property_signature", "enum_assignment"):
            nm = self.text(node.child_by_field_name("name")) or f"<{t}>"
            self.statement(outer, start, prefix + nm, test_region=False, container=container)
            return
        self.statement(outer, start, prefix + f"<{t}>", test_region=False, container=container)

    def _js_member_is_function(self, member: Node) -> bool:
        if member.type == "method_definition":
            return True
        if member.type == "pair":
            value = member.child_by_field_name("value")
            return value is not None and value.type in JS_FUNCTION_VALUES
        return False

    def _tests(self, statements: list[Node], titles: list[str]) -> None:
        """it/test calls (with .only/.skip/.each) under describe blocks, at statement level."""
        for stmt in statements:
            if stmt.type == "ERROR":
                self._tests(stmt.children, titles)
                continue
            if stmt.type != "expression_statement" or not stmt.named_children:
                continue
            call = stmt.named_children[0]
            if call.type == "await_expression" and call.named_children:
                call = call.named_children[0]
            if call.type != "call_expression":
                continue
            base = callee_base(call, self)
            if base not in JS_TEST_CALLS and base not in JS_SUITE_CALLS:
                continue
            args = call.child_by_field_name("arguments")
            if args is None or not args.named_children:
                continue
            first = args.named_children[0]
            if first.type not in ("string", "template_string"):
                continue
            title = self.text(first)[1:-1]
            if base in JS_TEST_CALLS:
                self.add(
                    " > ".join([*titles, title]),
                    FUNCTION,
                    line_of(stmt),
                    end_line_of(stmt),
                    signature=f"{base}({self.text(first)})",
                    is_test=True,
                )
                continue
            for arg in args.named_children[1:]:
                if arg.type in JS_FUNCTION_VALUES:
                    body = arg.child_by_field_name("body")
                    if body is not None:
                        self._tests(body.named_children, [*titles, title])


def callee_base(call: Node, ex: Extractor) -> str:
    """``it`` for it(...), it.only(...), it.each(...)(...)."""
    fn = call.child_by_field_name("function")
    while fn is not None:
        if fn.type == "identifier":
            return ex.text(fn)
        if fn.type == "member_expression":
            fn = fn.child_by_field_name("object")
        elif fn.type == "call_expression":
            fn = fn.child_by_field_name("function")
        else:
            return ""
    return ""
