"""daemon/lazy.py: modules imported on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from daemon.lazy import lazy

ROOT = Path(__file__).resolve().parents[2]


def test_attribute_reads_the_real_module() -> None:
    """An attribute of the stand-in is the module's own attribute."""
    json = lazy("json")
    assert json.dumps([1]) == "[1]" and repr(json) == "<lazy module json>"


def test_module_is_not_imported_before_first_use() -> None:
    """Binding the stand-in imports nothing; the first attribute read does."""
    code = ("import sys; from daemon.lazy import lazy; m = lazy('colorsys'); "
            "print('colorsys' in sys.modules); m.rgb_to_hsv; print('colorsys' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]
