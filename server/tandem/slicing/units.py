"""Code units of one file: functions, methods, class headers, declaration-level statements, tests.

A unit's span includes its decorators, annotations, attributes and doc comments. Names are
qualified by their containers: ``Class.method``, ``Type::method`` (Rust), ``Recv.Method`` (Go),
``describe title > it title`` (JS/TS tests). Syntax errors do not stop extraction: the children
of an ERROR node are read as if they sat in its parent, so whatever parses is sliced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tandem.slicing.languages import FAMILY, LanguageName, parser

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

FUNCTION = "function"
CLASS = "class"
STATEMENT = "statement"


@dataclass(frozen=True, slots=True)
class Unit:
    """One code unit; lines are 1-based and inclusive."""

    name: str
    kind: str  # function | class | statement
    start_line: int
    end_line: int
    signature: str = ""
    is_test: bool = False
    in_test_region: bool = False  # Rust inline test code (#[cfg(test)] items, #[test] fns)
    container: str = ""  # simple name of the enclosing class/type, if any
    # A header's unit ends where its body opens; the definition it heads ends here (0: no body).
    definition_end: int = 0

    @property
    def definition_end_line(self) -> int:
        """The last line of the whole definition: a class's body included, for edits."""
        return max(self.end_line, self.definition_end)

    @property
    def simple_name(self) -> str:
        return re.split(r"::|\.| > ", self.name)[-1]

    def contains(self, line: int) -> bool:
        return self.start_line <= line <= self.end_line


@dataclass(slots=True)
class FileUnits:
    """The units of one file, in source order, plus whether the parse had errors."""

    path: str
    language: LanguageName
    units: list[Unit] = field(default_factory=list)
    has_errors: bool = False

    def tests(self) -> list[Unit]:
        return [u for u in self.units if u.is_test]


# Python test files; JS/TS test files; Go; Java (under src/test); Rust tests/ and benches/.
_PY_TEST_FILE = re.compile(r"(^|/)(tests?/.*\.py|test_[^/]*\.py|[^/]*_test\.py|conftest\.py)$")
_JS_TEST_FILE = re.compile(r"(^|/)([^/]*\.(test|spec)\.[^/]+|__tests__/.*|tests?/.*)$")
_RUST_TEST_ATTR = re.compile(r"#\[\s*(?:[\w]+::)*(?:test|rstest|test_case|quickcheck)\b")
_RUST_CFG_TEST = re.compile(r"#\[\s*cfg\s*\(\s*test\s*\)\s*\]")
_GO_TEST_NAME = re.compile(r"^(Test|Benchmark|Fuzz|Example)([^a-z].*)?$")
_JAVA_TEST_ANNOTATIONS = frozenset({"Test", "ParameterizedTest", "RepeatedTest", "TestFactory"})
_JS_TEST_CALLS = frozenset({"it", "test"})
_JS_SUITE_CALLS = frozenset({"describe", "suite", "context"})
_JS_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)


def is_test_file(path: str, language: LanguageName) -> bool:
    """Whether ``path`` is a test file by its language's convention (Rust: tests/ or benches/)."""
    family = FAMILY[language]
    if family == "python":
        return bool(_PY_TEST_FILE.search(path))
    if family == "js":
        return bool(_JS_TEST_FILE.search(path))
    if family == "go":
        return path.endswith("_test.go")
    if family == "java":
        return "src/test/" in path or path.startswith("test/") or "/test/" in path
    return bool(re.search(r"(^|/)(tests|benches)/", path))


def parse(text: str | bytes, language: LanguageName, old_tree: Tree | None = None) -> Tree:
    """Parse ``text``; with ``old_tree`` (already edited) the parse is incremental."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if old_tree is None:
        return parser(language).parse(data)
    return parser(language).parse(data, old_tree)


def extract_units(path: str, text: str | bytes, language: LanguageName) -> FileUnits:
    """Parse ``text`` and return its units (test units only when ``path`` may hold tests)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    tree = parse(data, language)
    return units_from_tree(path, data, language, tree)


def units_from_tree(path: str, data: bytes, language: LanguageName, tree: Tree) -> FileUnits:
    """The units of an already parsed file."""
    extractor = _Extractor(path, data, language)
    root = tree.root_node
    extractor.walk_container(root.children, prefix="", container="", test_region=False)
    if extractor.family == "js" and extractor.test_file:
        extractor.js_tests(root.children, [])
    result = FileUnits(path=path, language=language, has_errors=root.has_error)
    result.units = sorted(extractor.units, key=lambda u: (u.start_line, u.end_line, u.name))
    return result


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _end_line(node: Node) -> int:
    # A node ending at column 0 ends on the previous line (its trailing newline).
    end = node.end_point
    return end.row if end.column == 0 and end.row > node.start_point.row else end.row + 1


class _Extractor:
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
        for child in children:
            kind = child.type
            if kind == "ERROR":
                self.walk_container(
                    child.children, prefix=prefix, container=container, test_region=test_region
                )
                lead = []
                continue
            if kind in ("comment", "line_comment", "block_comment"):
                if lead and _line(child) > _end_line(lead[-1]) + 1:
                    lead = []
                lead.append(child)
                continue
            if kind in ("attribute_item", "decorator"):
                lead.append(child)
                continue
            if not child.is_named:
                lead = []
                continue
            if lead and _line(child) > _end_line(lead[-1]) + 1:
                lead = [n for n in lead if n.type not in ("comment", "line_comment")]
            start = _line(lead[0]) if lead else _line(child)
            attrs = "\n".join(self.text(n) for n in lead if n.type != "comment")
            self.item(child, start, attrs, prefix, container, test_region)
            lead = []

    def item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        handler = getattr(self, f"_{self.family}_item")
        handler(node, start, attrs, prefix, container, test_region)

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
        end = header_end if header_end is not None else (_line(body) if body else _end_line(node))
        self.add(
            name,
            CLASS,
            start,
            end,
            signature=self.signature(node, body),
            test_region=test_region,
            container=container,
            definition_end=_end_line(node),
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
            _end_line(node),
            signature=self.signature(sig_node or node, body),
            is_test=is_test,
            test_region=test_region,
            container=container,
        )

    def statement(
        self, node: Node, start: int, name: str, *, test_region: bool, container: str
    ) -> None:
        self.add(
            name, STATEMENT, start, _end_line(node), test_region=test_region, container=container
        )

    # ---- Python ------------------------------------------------------------------------
    def _python_item(
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
                header_end=_line(colon) if colon is not None else None,
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

    # ---- JavaScript / TypeScript ----------------------------------------------------------
    def _js_item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        t = node.type
        if t == "export_statement":
            decl = node.child_by_field_name("declaration")
            if decl is not None:
                self._js_decl(node, decl, start, prefix, container)
                return
            value = node.child_by_field_name("value")
            if value is not None and value.type in _JS_FUNCTION_VALUES | {"class"}:
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
                if right is not None and right.type in _JS_FUNCTION_VALUES:
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
                if value is not None and value.type in _JS_FUNCTION_VALUES:
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
            if value is not None and value.type in _JS_FUNCTION_VALUES:
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
            return value is not None and value.type in _JS_FUNCTION_VALUES
        return False

    def js_tests(self, statements: list[Node], titles: list[str]) -> None:
        """it/test calls (with .only/.skip/.each) under describe blocks, at statement level."""
        for stmt in statements:
            if stmt.type == "ERROR":
                self.js_tests(stmt.children, titles)
                continue
            if stmt.type != "expression_statement" or not stmt.named_children:
                continue
            call = stmt.named_children[0]
            if call.type == "await_expression" and call.named_children:
                call = call.named_children[0]
            if call.type != "call_expression":
                continue
            base = _callee_base(call, self)
            if base not in _JS_TEST_CALLS and base not in _JS_SUITE_CALLS:
                continue
            args = call.child_by_field_name("arguments")
            if args is None or not args.named_children:
                continue
            first = args.named_children[0]
            if first.type not in ("string", "template_string"):
                continue
            title = self.text(first)[1:-1]
            if base in _JS_TEST_CALLS:
                self.add(
                    " > ".join([*titles, title]),
                    FUNCTION,
                    _line(stmt),
                    _end_line(stmt),
                    signature=f"{base}({self.text(first)})",
                    is_test=True,
                )
                continue
            for arg in args.named_children[1:]:
                if arg.type in _JS_FUNCTION_VALUES:
                    body = arg.child_by_field_name("body")
                    if body is not None:
                        self.js_tests(body.named_children, [*titles, title])

    # ---- Go -------------------------------------------------------------------------
    def _go_item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        t = node.type
        if t in ("function_declaration", "method_declaration"):
            name = self.text(node.child_by_field_name("name"))
            recv = ""
            if t == "method_declaration":
                recv = _go_receiver(node, self)
            is_test = self.test_file and bool(_GO_TEST_NAME.match(name)) and name != "TestMain"
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
                            m, _line(m), f"{name}.{mname}", test_region=False, container=name
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

    # ---- Rust -----------------------------------------------------------------------
    def _rust_item(
        self, node: Node, start: int, attrs: str, prefix: str, container: str, test_region: bool
    ) -> None:
        t = node.type
        region = test_region or bool(_RUST_CFG_TEST.search(attrs))
        if t in ("function_item", "function_signature_item"):
            name = self.text(node.child_by_field_name("name"))
            is_test = bool(_RUST_TEST_ATTR.search(attrs))
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
                name = _rust_type_name(self.text(node.child_by_field_name("type")))
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
                for m in body.named_children:
                    if m.type in ("line_comment", "block_comment", "attribute_item"):
                        continue
                    mname = self.text(m.child_by_field_name("name")) or f"<{m.type}>"
                    self.statement(
                        m,
                        _line(m),
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

    # ---- Java -----------------------------------------------------------------------
    def _java_item(
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
                        if nm in _JAVA_TEST_ANNOTATIONS:
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


def _callee_base(call: Node, ex: _Extractor) -> str:
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


def _go_receiver(node: Node, ex: _Extractor) -> str:
    recv = node.child_by_field_name("receiver")
    text = ex.text(recv).strip("()")
    parts = text.replace("*", " ").split()
    typ = parts[-1] if parts else ""
    return typ.split("[")[0]


def _rust_type_name(text: str) -> str:
    text = text.split("<")[0].strip()
    return text.split("::")[-1] or text
