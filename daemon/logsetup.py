"""Structured logging: `logs/burnin.jsonl`, one JSON object per line, UTC ISO timestamps.

The file is reopened when logrotate moves it away (the WatchedFileHandler rule: compare the
inode before each write), so `tail -F` and logrotate without copytruncate both work. Values of
keys that look secret are masked before rendering.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import orjson
import structlog

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_SECRET_KEYS = ("password", "secret", "token", "authorization")


class WatchedFile:
    """An append-only text file that reopens itself after rotation or deletion."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fh: TextIO | None = None
        self._ino: tuple[int, int] | None = None

    def write(self, line: str) -> None:
        with self._lock:
            self._reopen_if_moved()
            assert self._fh is not None
            self._fh.write(line + "\n")
            self._fh.flush()

    def _reopen_if_moved(self) -> None:
        try:
            st = os.stat(self.path)
            ident: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            ident = None
        if self._fh is not None and ident == self._ino:
            return
        if self._fh is not None:
            self._fh.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - long-lived handle
        st = os.fstat(self._fh.fileno())
        self._ino = (st.st_dev, st.st_ino)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


class _Logger:
    def __init__(self, sink: WatchedFile | None, echo: TextIO | None, echo_level: int) -> None:
        self.sink, self.echo, self.echo_level = sink, echo, echo_level

    def msg(self, line: str) -> None:
        if self.sink is not None:
            self.sink.write(line)

    def echo_line(self, level: int, text: str) -> None:
        if self.echo is not None and level >= self.echo_level:
            print(text, file=self.echo, flush=True)

    debug = info = warning = error = critical = exception = log = msg


def mask_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: never let a secret-looking value reach a log line."""
    for key in list(event):
        if any(s in key.lower() for s in _SECRET_KEYS) and event[key]:
            event[key] = "********"
    return event


def _render(logger: _Logger, method: str, event: dict[str, Any]) -> str:
    level = LEVELS.get(event.get("level", "info"), 20)
    logger.echo_line(level, f"burnin {event.get('level', 'info')}: {event.get('event')} "
                     + " ".join(f"{k}={v}" for k, v in event.items()
                                if k not in ("event", "level", "timestamp")))
    return orjson.dumps(event, default=str).decode()


_SINK: WatchedFile | None = None


def configure(log_dir: Path | None, level: str = "info", echo: bool = True) -> None:
    """Send structlog output to `log_dir/burnin.jsonl` (and warnings to stderr)."""
    global _SINK
    if _SINK is not None:
        _SINK.close()
    _SINK = WatchedFile(log_dir / "burnin.jsonl") if log_dir is not None else None
    logger = _Logger(_SINK, sys.stderr if echo else None, 30)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            structlog.processors.format_exc_info,
            mask_secrets,
            _render,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=lambda *_: logger,
        cache_logger_on_first_use=False,
    )


def get_logger(**context: Any) -> Any:
    return structlog.get_logger().bind(**context)
