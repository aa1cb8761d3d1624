"""The layers contract of pyproject.toml ([tool.importlinter]) holds and covers all of daemon/."""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"


def _layers() -> list[str]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return contract["layers"]


def test_import_linter_keeps_every_contract() -> None:
    """`lint-imports` finds no import that breaks a contract (exit status 0)."""
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0


def test_every_top_level_module_has_a_layer() -> None:
    """A new module or package of daemon/ must be placed in a layer, or it escapes the contract."""
    named = {part.strip() for layer in _layers() for part in layer.replace("|", ":").split(":")}
    tops = {p.stem for p in (ROOT / "daemon").glob("*.py") if p.stem != "__init__"}
    tops |= {p.parent.name for p in (ROOT / "daemon").glob("*/__init__.py")}
    assert {f"daemon.{name}" for name in tops} - named == set()
