"""The import graph of ``daemon/`` (every import, including those inside functions) and its cycles.

``python tools/importgraph.py`` prints each strongly connected component of more than one
module (an import cycle) and the count; exit status 1 when there is any. Imports under
``if TYPE_CHECKING:`` count too, as they do for import-linter: a type named across layers is
still a dependency. Modules loaded by name (``importlib``, the registries' discovery) do not.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "daemon"


def module_name(path: Path, root: Path = ROOT) -> str:
    """The dotted name of a module file under ``root``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _resolve(importer: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def targets(importer: str, is_pkg: bool, node: ast.Import | ast.ImportFrom,
            known: set[str]) -> set[str]:
    """The known modules an import statement loads (``from p import m`` counts ``p.m``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = _resolve(importer, is_pkg, node)
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    out = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != importer:
            out.add(name)
    return out


def graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """Module name -> the package modules it imports, anywhere in its body."""
    files = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    known = set(files)
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges[name] = set()
        for node in _imports(tree):
            edges[name] |= targets(name, is_pkg, node, known)
    return edges


def _without_parents(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges from a module to its own parent packages (importing ``a.b`` runs ``a``)."""
    return {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    edges = _without_parents(edges)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def main() -> int:
    found = cycles(graph())
    for comp in found:
        print(" <-> ".join(comp))
    print(f"{len(found)} import cycle(s) in {PACKAGE}/")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
