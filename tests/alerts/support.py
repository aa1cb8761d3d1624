"""Shared fixtures of alert and channel tests: a config in tmp_path, a recording logger."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from daemon.config import Config, load_config


class ListLog:
    """A structlog-like logger that keeps every call (to check what reaches the logs)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def _add(self, level: str, event: str, **kw: Any) -> None:
        self.lines.append((level, event, kw))

    def debug(self, event: str, **kw: Any) -> None:
        self._add("debug", event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        self._add("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._add("warning", event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._add("error", event, **kw)

    def text(self) -> str:
        return repr(self.lines)


@pytest.fixture
def log() -> ListLog:
    return ListLog()


@pytest.fixture
def make_cfg(tmp_path: Path):
    def make(alerts: dict | None = None, env: dict | None = None, scale: float = 1.0) -> Config:
        overrides = {
            "daemon": {"runtime_dir": str(tmp_path / "runtime"), "log_dir": str(tmp_path / "logs")},
            "system": {"root": str(tmp_path), "name": "ledger"},
            "window": {"time_scale": scale},
            "alerts": {"retry_base": "10ms", "retry_max": "50ms", **(alerts or {})},
        }
        return load_config(None, overrides=overrides, env=env or {})
    return make


@contextlib.asynccontextmanager
async def running(cfg: Config, clock: Any, log: Any) -> AsyncIterator[Any]:
    """A started AlertEngine (window w1, host h1), closed on exit."""
    from daemon.alerts.engine import AlertEngine

    eng = AlertEngine(cfg, clock, log, window_id="w1", host="h1")
    await eng.start()
    try:
        yield eng
    finally:
        await eng.aclose()
