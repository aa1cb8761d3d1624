"""The import graph of daemon/ (tools/importgraph.py) has no cycle, function-level imports too."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("importgraph", ROOT / "tools/importgraph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("importgraph", module)
    spec.loader.exec_module(module)
    return module


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_daemon_has_no_import_cycle() -> None:
    """No two modules of daemon/ import each other, directly or through others."""
    tool = _tool()
    assert tool.cycles(tool.graph()) == []


def test_a_function_level_import_closes_a_cycle(tmp_path: Path) -> None:
    """An import inside a function counts: it runs as surely as one at the top."""
    tool = _tool()
    root = _package(tmp_path, {"__init__.py": "", "a.py": "from pkg import b\n",
                               "b.py": "def f():\n    from pkg.a import x\n"})
    assert tool.cycles(tool.graph(root, "pkg")) == [["pkg.a", "pkg.b"]]


def test_a_type_checking_import_closes_a_cycle(tmp_path: Path) -> None:
    """An import under TYPE_CHECKING counts, as for import-linter."""
    tool = _tool()
    root = _package(tmp_path, {
        "__init__.py": "", "a.py": "import pkg.b\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"})
    assert tool.cycles(tool.graph(root, "pkg")) == [["pkg.a", "pkg.b"]]


def test_a_submodule_importing_its_package_is_no_cycle(tmp_path: Path) -> None:
    """`pkg.sub.m` importing `pkg.sub` (its own package) is how packages load, not a cycle."""
    tool = _tool()
    root = _package(tmp_path, {"__init__.py": "", "sub/__init__.py": "from pkg.sub import m\n",
                               "sub/m.py": "import pkg.sub\n"})
    assert tool.cycles(tool.graph(root, "pkg")) == []
