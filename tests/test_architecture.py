"""The shape of the package, read from the source with `ast` (nothing is imported or executed).

- no import cycle among centrex modules, lazy imports inside functions included;
- the call core (centrex/calls/) reads the store only through ports: no centrex.store, no sqlalchemy;
- the call core and the PBX stay in small modules (STYLE.md: "small enough to read in one sitting");
- sip/ is sans-I/O and "stdlib only" (DESIGN.md, table of packages).

`python tests/test_architecture.py` prints every import cycle left, one per strongly connected
group of modules, with the file and line of each import on it.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "centrex"

MAX_LINES = 600


@dataclass(frozen=True)
class Import:
    """One import statement's target, as written in `module` at `line`."""

    module: str
    target: str
    line: int
    type_checking: bool  # inside `if TYPE_CHECKING:` - never executed, so it cannot close a cycle


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


MODULES = source_files()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = _resolve(module, node)
    for alias in node.names:
        # `from pkg import sub` imports the submodule pkg.sub when there is one.
        sub = f"{base}.{alias.name}"
        yield sub if sub in MODULES else base


def imports_of(module: str, source: str | None = None) -> list[Import]:
    """Every import in the module (or in `source` read as that module), at any depth."""
    if source is None:
        source = MODULES[module].read_text(encoding="utf-8")
    tree = ast.parse(source, str(MODULES[module]))
    found: list[Import] = []

    def walk(node: ast.AST, type_checking: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                walk(stmt, True)
            for stmt in node.orelse:
                walk(stmt, type_checking)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(module, node):
                found.append(Import(module, target, node.lineno, type_checking))
        for child in ast.iter_child_nodes(node):
            walk(child, type_checking)

    walk(tree, False)
    return found


IMPORTS = {name: imports_of(name) for name in MODULES}


def _internal_target(target: str) -> str | None:
    """The centrex module an import target loads, or None for anything outside the package."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target if target.startswith(PACKAGE) else None


def runtime_graph() -> dict[str, dict[str, Import]]:
    """module -> {imported centrex module -> first executed import of it}."""
    graph: dict[str, dict[str, Import]] = {name: {} for name in MODULES}
    for name, imports in IMPORTS.items():
        for imp in imports:
            target = _internal_target(imp.target)
            if imp.type_checking or target is None or target == name:
                continue
            graph[name].setdefault(target, imp)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; only the groups of two modules or more (no self-imports)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def shortest_cycle(graph: dict[str, dict[str, Import]], group: list[str]) -> list[Import]:
    """One shortest cycle through the group's first module, as the imports that close it."""
    start, members = group[0], set(group)
    previous: dict[str, Import] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child, imp in sorted(graph[node].items()):
            if child not in members:
                continue
            if child == start:
                path = [imp]
                while path[0].module != start:
                    path.insert(0, previous[path[0].module])
                return path
            if child not in previous:
                previous[child] = imp
                queue.append(child)
    raise AssertionError(f"{group} is not strongly connected")


def describe(graph: dict[str, dict[str, Import]], group: list[str]) -> str:
    lines = [f"{len(group)} modules in one cycle group: {', '.join(group)}", "  e.g."]
    for imp in shortest_cycle(graph, group):
        path = MODULES[imp.module].relative_to(SRC.parent)
        target = _internal_target(imp.target)
        lines.append(f"    {imp.module} -> {target}  ({path}:{imp.line})")
    return "\n".join(lines)


GRAPH = runtime_graph()
CYCLES = strongly_connected(GRAPH)
TOP_PACKAGES = sorted({name.split(".")[1] for name in MODULES if name.count(".") >= 1})


@pytest.mark.parametrize("package", TOP_PACKAGES)
def test_no_import_cycle_through_package(package: str) -> None:
    """Counting imports inside functions: a lazy import only hides a cycle, it does not break it."""
    prefix = f"{PACKAGE}.{package}"
    mine = [g for g in CYCLES if any(m == prefix or m.startswith(prefix + ".") for m in g)]
    assert not mine, "import cycles:\n" + "\n".join(describe(GRAPH, g) for g in mine)


def test_the_cycle_finder_sees_a_lazy_import_cycle() -> None:
    """The finder itself: a cycle closed only by a function-level import is still found."""
    a = Import("a", "b", 1, type_checking=False)
    b = Import("b", "a", 9, type_checking=False)
    graph = {"a": {"b": a}, "b": {"a": b}, "c": {"a": Import("c", "a", 1, False)}}
    assert strongly_connected(graph) == [["a", "b"]]
    assert shortest_cycle(graph, ["a", "b"]) == [a, b]


def test_imports_inside_functions_count_and_type_checking_ones_are_marked() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from centrex.store.access import TenantData\n"
        "def f():\n"
        "    from .money import ZERO, to_cents\n"
        "    from . import collections_service\n"
    )
    found = {(i.target, i.line, i.type_checking) for i in imports_of("centrex.billing.days", source)}
    assert found == {
        ("typing", 1, False),
        ("centrex.store.access", 3, True),
        ("centrex.billing.money", 5, False),
        ("centrex.billing.collections_service", 6, False),
    }


def _calls_modules() -> list[str]:
    return [n for n in MODULES if n.startswith(f"{PACKAGE}.calls.")]


def test_the_call_core_reaches_the_store_only_through_ports() -> None:
    """TYPE_CHECKING imports count too: a port speaks the call core's own types."""
    offending = {
        f"{imp.module}:{imp.line} imports {imp.target}": None
        for name in _calls_modules()
        for imp in IMPORTS[name]
        if imp.target.split(".")[0] == "sqlalchemy"
        or imp.target == f"{PACKAGE}.store"
        or imp.target.startswith(f"{PACKAGE}.store.")
    }  # a dict: one line per statement and module, even for `from x import a, b, c`
    assert not offending, "calls/ imports the store:\n" + "\n".join(offending)


def test_call_core_and_pbx_modules_are_small() -> None:
    too_long = []
    for name, path in MODULES.items():
        if not name.startswith((f"{PACKAGE}.calls.", f"{PACKAGE}.pbx.")):
            continue
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            too_long.append(f"{path.relative_to(SRC.parent)}: {count} lines (limit {MAX_LINES})")
    assert not too_long, "modules too long:\n" + "\n".join(too_long)


def test_sip_imports_only_the_stdlib_and_itself() -> None:
    """DESIGN.md, packages: sip/ is sans-I/O SIP, "stdlib only"."""
    offending = {
        f"{imp.module}:{imp.line} imports {imp.target}": None
        for name in MODULES
        if name.startswith(f"{PACKAGE}.sip")
        for imp in IMPORTS[name]
        if imp.target.split(".")[0] not in sys.stdlib_module_names
        and not (imp.target == f"{PACKAGE}.sip" or imp.target.startswith(f"{PACKAGE}.sip."))
    }
    assert not offending, "sip/ imports outside the stdlib:\n" + "\n".join(offending)


if __name__ == "__main__":
    for group in CYCLES:
        print(describe(GRAPH, group), end="\n\n")
    print(f"{len(CYCLES)} cycle group(s) among {len(MODULES)} modules")
    sys.exit(1 if CYCLES else 0)
