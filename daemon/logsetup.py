"""Structured logging: `logs/burnin.jsonl`, one JSON object per line, UTC ISO timestamps.

The file is reopened when logrotate moves it away (the WatchedFileHandler rule: compare the
inode before each write), so `tail -F` and logrotate without copytruncate both work. Values of
keys that look secret are masked before rendering. Logging never raises into the caller: a
full or read-only log folder is counted, retried and reported (`WatchedFile`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any, TextIO

import orjson
import structlog

from daemon.atomic import append_whole

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_SECRET_KEYS = ("password", "secret", "token", "authorization")
RETRY_KEEP = 1000  # log lines kept in memory while the log folder refuses writes


class WatchedFile:
    """An append-only line file that reopens itself after rotation or deletion.

    A write never raises: burnin's own log must not kill the daemon (SPEC §5). A line that
    cannot be written (disk full, folder read-only, file gone and not re-creatable) is kept in
    a bounded retry buffer and written, in order, by the next write or `retry()`; failures are
    counted and exposed by `health()`, which the `daemon_log` rule turns into
    `daemon.runtime_unwritable`. Each line is appended whole or not at all.
    """

    def __init__(self, path: Path, keep: int = RETRY_KEEP) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._ino: tuple[int, int] | None = None
        self._pending: deque[bytes] = deque()
        self._keep = keep
        self.failures = 0  # write attempts that failed
        self.dropped = 0  # lines lost because the retry buffer was full
        self.error: str | None = None  # why the last attempt failed; None once writing again

    def write(self, line: str) -> None:
        with self._lock:
            if len(self._pending) >= self._keep:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append(line.encode("utf-8", "backslashreplace") + b"\n")
            self._flush()

    def retry(self) -> None:
        """Write what earlier failures kept back (the health rule calls this every run)."""
        with self._lock:
            if self._pending:
                self._flush()

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {"log_write_failures": self.failures, "log_lines_pending": len(self._pending),
                    "log_lines_dropped": self.dropped, "log_error": self.error}

    def _flush(self) -> None:
        try:
            fd = self._open()
            while self._pending:
                append_whole(fd, self._pending[0])
                self._pending.popleft()
        except OSError as exc:
            self.failures += 1
            self.error = f"{self.path}: {exc.strerror or exc}"
            self._drop_fd()  # reopen next time: the folder may be back, or rotated
            return
        self.error = None

    def _open(self) -> int:
        try:
            st = os.stat(self.path)
            ident: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except FileNotFoundError:
            ident = None
        if self._fd is not None and ident == self._ino:
            return self._fd
        self._drop_fd()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        st = os.fstat(fd)
        self._fd, self._ino = fd, (st.st_dev, st.st_ino)
        return fd

    def _drop_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = self._ino = None

    def close(self) -> None:
        with self._lock:
            self._drop_fd()


class _Logger:
    def __init__(self, sink: WatchedFile | None, echo: TextIO | None, echo_level: int) -> None:
        self.sink, self.echo, self.echo_level = sink, echo, echo_level

    def msg(self, line: str) -> None:
        if self.sink is not None:
            self.sink.write(line)

    def echo_line(self, level: int, text: str) -> None:
        if self.echo is not None and level >= self.echo_level:
            # stderr gone or full: the file sink still has the line
            with contextlib.suppress(OSError, ValueError):
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
                     + " ".join(f"{k}={_one_line(v)}" for k, v in event.items()
                                if k not in _NOT_ECHOED))
    return orjson.dumps(event, default=str).decode()


_NOT_ECHOED = ("event", "level", "timestamp", "exception", "exc_info")  # tracebacks: file only


def _one_line(value: Any) -> str:
    return str(value).replace("\n", "\\n")


_SINK: WatchedFile | None = None
_CONFIGURED = False


def is_configured() -> bool:
    """Whether `configure()` ran in this process (structlog's default would print to stdout)."""
    return _CONFIGURED


def configure(log_dir: Path | None, level: str = "info", echo: bool = True) -> None:
    """Send structlog output to `log_dir/burnin.jsonl` (and warnings to stderr)."""
    global _SINK, _CONFIGURED
    _CONFIGURED = True
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


def sink_health() -> dict[str, Any] | None:
    """Counters of the log file sink (None when logging goes nowhere, as in `burnin check`);
    pending lines are retried first."""
    if _SINK is None:
        return None
    _SINK.retry()
    return _SINK.health()


def get_logger(**context: Any) -> Any:
    return structlog.get_logger().bind(**context)
