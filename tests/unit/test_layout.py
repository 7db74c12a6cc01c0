"""The package layout stays navigable: no import circles, small modules, one stated purpose each,
and pygls/lsprotocol only inside ``tandem.lsp``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "tandem"
MAX_LINES = 400
LSP_ONLY = ("pygls", "lsprotocol")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, tree: ast.Module) -> Iterator[str]:
    """Every module this one imports, wherever the import stands (lazy ones included: a circle
    through a function body is still a circle a reader has to untangle)."""
    is_package = MODULES[name].name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in MODULES else base


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {m for m in imported_modules(name, tree) if m in MODULES and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_module_imports_itself_back_through_others() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_stays_small(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by job (limit {MAX_LINES})"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_opens_with_a_one_line_purpose(name: str) -> None:
    path = MODULES[name]
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{name} has no module docstring"
    assert docstring.splitlines()[0].strip(), f"{name}: the docstring's first line is empty"


def test_only_the_lsp_package_imports_pygls_or_lsprotocol() -> None:
    offenders = []
    for name, path in MODULES.items():
        if name == "tandem.lsp" or name.startswith("tandem.lsp."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imported in imported_any(tree):
            if imported.split(".")[0] in LSP_ONLY:
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_no_module_reaches_into_private_pygls_modules() -> None:
    offenders = []
    for name, path in MODULES.items():
        for imported in imported_any(ast.parse(path.read_text(encoding="utf-8"))):
            if imported.split(".")[0] == "pygls" and any(
                part.startswith("_") for part in imported.split(".")
            ):
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def imported_any(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
