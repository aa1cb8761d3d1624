"""Modules imported on first use, so a one-shot `burnin check` loads only what it runs.

`np = lazy("numpy")` binds a stand-in whose first attribute access imports the module (a
`burnin check` of a small tree never pays numpy's import). Code that only runs with data in
hand uses it like the module itself.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """A module imported when one of its attributes is first read."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"


def lazy(name: str) -> Any:
    return LazyModule(name)
