#!/usr/bin/env python3
"""Check the shape of ``bot/``: no import cycle, no module over 500 lines, the layers respected.

    python scripts/check_architecture.py [ROOT]

Reads every module of ``bot/`` with ``ast`` (nothing is imported) and builds the graph of its
imports of ``bot`` modules, counting imports inside functions (they still tie two modules) and
ignoring those under ``if TYPE_CHECKING:`` (they are for the type checker only). Fails (exit 1,
one line a finding) on:

- a cycle between modules (each strongly connected component of the graph is listed once);
- a module of more than 500 lines;
- a layer violation: ``bot.core`` importing any ``bot`` module outside ``bot.core``; a transport
  (``bot.slack``, ``bot.cli``, ``bot.console``, ``bot.http``) importing ``bot.storage``.

An import ``from bot.x import y`` counts as an import of ``bot.x.y`` when that is a module, else of
``bot.x``; importing a package counts as importing its ``__init__``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_LINES = 500
TRANSPORTS = ("bot.slack", "bot.cli", "bot.console", "bot.http")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """``(imported, names)`` for every import outside ``if TYPE_CHECKING:`` blocks."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((name, [alias.name for alias in node.names]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def build_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, int]]:
    """The import graph of the ``bot`` modules under ``root`` and each module's line count."""
    files = {module_name(root, p): p for p in sorted((root / "bot").rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in files}
    lines: dict[str, int] = {}
    for mod, path in files.items():
        text = path.read_text(encoding="utf-8")
        lines[mod] = len(text.splitlines())
        tree = ast.parse(text, filename=str(path))
        for name, names in _imports(tree, mod, path.name == "__init__.py"):
            if name != "bot" and not name.startswith("bot."):
                continue
            targets = [f"{name}.{n}" for n in names if f"{name}.{n}" in files]
            if len(targets) < len(names) or not names:
                targets.append(name)
            for target in targets:
                while target not in files and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target in files and target != mod:
                    graph[mod].add(target)
    return graph, lines


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for mod in sorted(graph):
        for target in sorted(graph[mod]):
            if _in(mod, "bot.core") and not _in(target, "bot.core"):
                out.append(f"layer: {mod} (core) imports {target}: the core imports only bot.core")
            if any(_in(mod, t) for t in TRANSPORTS) and _in(target, "bot.storage"):
                out.append(f"layer: {mod} (transport) imports {target}: transports call services, not storage")
    return out


def check(root: Path) -> list[str]:
    """Every finding, one line each (empty: the tree is in shape)."""
    graph, lines = build_graph(root)
    problems = [f"cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    problems += [f"size: {m} has {n} lines (at most {MAX_LINES})" for m, n in sorted(lines.items()) if n > MAX_LINES]
    problems += layer_violations(graph)
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_architecture: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check_architecture: no cycle, no module over 500 lines, layers respected")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
