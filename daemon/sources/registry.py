"""Shared sources: one instance per name, created on first use, closed with the hub.

A source is anything several rules read (the job-folder index, the journal state). Register a
factory with `@source("name")`; rules get the instance with `env.sources.get("name")`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daemon.unit import Env

_FACTORIES: dict[str, tuple[str, str]] = {}
_MADE: dict[str, Callable[[Env], Any]] = {}


def source(name: str) -> Callable[[Callable[[Env], Any]], Callable[[Env], Any]]:
    """Decorator: register a factory (usually a class taking `env`) under `name`."""

    def deco(factory: Callable[[Env], Any]) -> Callable[[Env], Any]:
        _MADE[name] = factory
        return factory

    return deco


class SourceHub:
    """Holds the shared source instances of one daemon or one `burnin check` run."""

    def __init__(self) -> None:
        self.env: Env | None = None
        self._instances: dict[str, Any] = {}

    def bind(self, env: Env) -> None:
        self.env = env

    def get(self, name: str) -> Any:
        if name not in self._instances:
            if name not in _MADE:
                importlib.import_module(f"daemon.sources.{name}")
            assert self.env is not None, "SourceHub.bind(env) first"
            self._instances[name] = _MADE[name](self.env)
        return self._instances[name]

    def close(self) -> None:
        for inst in self._instances.values():
            close = getattr(inst, "close", None)
            if close is not None:
                close()
        self._instances.clear()
