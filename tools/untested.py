"""Modules of ``daemon/`` that no test file imports (issue 16: tests follow the tree).

``python tools/untested.py`` lists them and their count; exit status 1 when there is any. A test
file imports a module when any of its import statements (top level or inside a function) names
it, as ``import daemon.x``, ``from daemon.x import y`` or ``from daemon import x``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from importgraph import PACKAGE, ROOT, _imports, module_name, targets


def tested(root: Path = ROOT) -> set[str]:
    """The daemon modules some file under tests/ imports."""
    known = {module_name(p, root) for p in (root / PACKAGE).rglob("*.py")}
    seen: set[str] = set()
    for path in sorted((root / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _imports(tree):
            seen |= targets("tests", False, node, known)
    return seen


def untested(root: Path = ROOT) -> list[str]:
    """The daemon modules (package `__init__`s with code included) no test imports."""
    out, seen = [], tested(root)
    for path in sorted((root / PACKAGE).rglob("*.py")):
        name = module_name(path, root)
        if path.name == "__init__.py" and not _has_code(path):
            continue
        if name not in seen and path.name != "__main__.py":
            out.append(name)
    return out


def _has_code(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in body)


def main() -> int:
    names = untested()
    for name in names:
        print(name)
    print(f"{len(names)} module(s) of {PACKAGE}/ imported by no test")
    return 1 if names else 0


if __name__ == "__main__":
    raise SystemExit(main())
