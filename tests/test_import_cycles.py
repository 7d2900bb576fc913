"""No import cycle among the package's modules, counting the imports inside functions.

A lazy import that closes a cycle hides the cycle from Python's import machinery but not from
the reader: the two modules can no longer be understood (or moved) one without the other.
Imports under `if TYPE_CHECKING:` never run and are for annotations only, so they are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "secure_constructs"
PENDING: set[tuple[str, str]] = set()
"""Edges left out until another change lands: the rule registry imports the rules, which
register themselves in it by import side effect; the pack as an explicit table (issue 19, the
checks side) removes the registration, and then this set must be emptied."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.Module, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Package modules `module` imports anywhere (module level or inside functions)."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from secure_constructs.checks import cfn` imports the module cfn; `from
                # secure_constructs.checks import acknowledge` runs checks/__init__.py.
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    targets = set()
    for name in found:
        # `import a.b.c` names a.b.c; a name outside the package leaves nothing.
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            targets.add(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {_module_name(path) for path in paths}
    return {
        _module_name(path): _imported(
            ast.parse(path.read_text(), str(path)),
            _module_name(path),
            path.name == "__init__.py",
            known,
        )
        for path in paths
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := walk(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    for source, target in PENDING:
        graph[source].discard(target)

    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_graph_sees_function_level_imports() -> None:
    """The walk is not vacuous: it sees module-level imports and imports inside functions."""
    graph = import_graph()

    assert "secure_constructs.errors" in graph["secure_constructs.validation"]
    # monitoring.py imports the checks inside a function only.
    assert "secure_constructs.checks.packs" in graph["secure_constructs.monitoring"]


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
        ({"a": {"b"}, "b": set()}, None),
    ],
)
def test_find_cycle_finds_cycles(graph: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle


def test_function_level_imports_count_and_type_checking_imports_do_not() -> None:
    source = "def f() -> None:\n    from secure_constructs.b import g\n"
    tree = ast.parse(source)
    known = {"secure_constructs.a", "secure_constructs.b"}

    assert _imported(tree, "secure_constructs.a", False, known) == {"secure_constructs.b"}
    guarded = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import secure_constructs.b\n"
    )
    assert _imported(ast.parse(guarded), "secure_constructs.a", False, known) == set()


def test_every_pending_edge_still_closes_a_cycle() -> None:
    """Once the registration cycle is gone, PENDING must be emptied (so it hides nothing)."""
    graph = import_graph()
    for source, target in PENDING:
        assert target in graph[source], f"{source} -> {target} is gone: remove it from PENDING"
        assert find_cycle({**graph, source: {target}}) is not None, f"remove {target} from PENDING"
