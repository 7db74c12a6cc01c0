"""Rust units: functions, impl/trait members (``Type::method``), items; #[test], inline tests."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tandem.slicing.extractors.base import Extractor, line_of

if TYPE_CHECKING:
    from tree_sitter import Node

RUST_TEST_ATTR = re.compile(r"#\[\s*(?:[\w]+::)*(?:test|rstest|test_case|quickcheck)\b")
RUST_CFG_TEST = re.compile(r"#\[\s*cfg\s*\(\s*test\s*\)\s*\]")


class RustExtractor(Extractor):
    """Rust units: functions, impl/trait members (``Type::method``), items; tests."""

    def item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        t = node.type
        region = test_region or bool(RUST_CFG_TEST.search(attrs))
        if t in ("function_item", "function_signature_item"):
            name = self.text(node.child_by_field_name("name"))
            is_test = bool(RUST_TEST_ATTR.search(attrs))
            self.function(
                node,
                start,
                prefix + name,
                node.child_by_field_name("body"),
                container=container,
                test_region=region,
                is_test=is_test,
            )
            return
        if t in ("impl_item", "trait_item", "mod_item"):
            if t == "impl_item":
                name = type_name(self.text(node.child_by_field_name("type")))
            else:
                name = self.text(node.child_by_field_name("name"))
            body = node.child_by_field_name("body")
            if body is None:
                self.statement(node, start, prefix + name, test_region=region, container=container)
                return
            self.header(node, start, prefix + name, body, test_region=region, container=container)
            self.walk_container(
                body.children,
                prefix=f"{prefix}{name}::",
                container=name,
                test_region=region,
            )
            return
        if t in ("struct_item", "enum_item", "union_item"):
            name = self.text(node.child_by_field_name("name"))
            body = node.child_by_field_name("body")
            if body is not None and body.type in ("field_declaration_list", "enum_variant_list"):
                self.header(
                    node, start, prefix + name, body, test_region=region, container=container
                )
                first_attr: int | None = None  # a member's attributes open its span
                for m in body.named_children:
                    if m.type == "attribute_item":
                        first_attr = first_attr or line_of(m)
                        continue
                    if m.type in ("line_comment", "block_comment"):
                        continue
                    mname = self.text(m.child_by_field_name("name")) or f"<{m.type}>"
                    member_start, first_attr = first_attr or line_of(m), None
                    self.statement(
                        m,
                        member_start,
                        f"{prefix}{name}::{mname}",
                        test_region=region,
                        container=name,
                    )
                return
            self.statement(node, start, prefix + name, test_region=region, container=container)
            return
        if t == "use_declaration":
            self.statement(
                node, start, prefix + "<import>", test_region=region, container=container
            )
            return
        nm = self.text(node.child_by_field_name("name")) or f"<{t}>"
        self.statement(node, start, prefix + nm, test_region=region, container=container)


def type_name(text: str) -> str:
    text = text.split("<")[0].strip()
    return text.split("::")[-1] or text
