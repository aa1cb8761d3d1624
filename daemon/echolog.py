"""The logger of a one-shot `burnin check`: warnings to stderr, nothing written, no structlog.

`burnin check` writes no file (SPEC §7); its log lines are the stderr echo of
`logsetup.configure(None, level)`, in the same `burnin <level>: <event> key=value` form, with
secret-looking values masked the same way. Importing structlog (and the terminal libraries it
probes) costs more than the whole check of a small tree, so the one-shot path uses this.
"""

from __future__ import annotations

import sys
from typing import Any

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
ECHO_LEVEL = 30  # what logsetup echoes to stderr
_SECRET_KEYS = ("password", "secret", "token", "authorization")
_LEVEL = [20]


class EchoLogger:
    """A structlog-like bound logger: `bind(**kw)`, `debug` … `critical`, `exception`."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def bind(self, **context: Any) -> EchoLogger:
        return EchoLogger({**self.context, **context})

    def _emit(self, level: str, event: str, **kw: Any) -> None:
        number = LEVELS[level]
        if number < _LEVEL[0] or number < ECHO_LEVEL:
            return
        fields = {**self.context, **kw}
        for key in fields:
            if any(s in key.lower() for s in _SECRET_KEYS) and fields[key]:
                fields[key] = "********"
        text = "".join(f" {k}={v}" for k, v in fields.items())
        print(f"burnin {level}: {event}{text}", file=sys.stderr, flush=True)

    def debug(self, event: str, **kw: Any) -> None:
        self._emit("debug", event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        self._emit("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._emit("warning", event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._emit("error", event, **kw)

    def critical(self, event: str, **kw: Any) -> None:
        self._emit("critical", event, **kw)

    def exception(self, event: str, **kw: Any) -> None:
        self._emit("error", event, **kw)

    warn = warning


def configure(log_dir: None, level: str = "info") -> None:
    """Set the level (no file: a one-shot check writes nothing)."""
    assert log_dir is None, "echolog is for the one-shot check only"
    _LEVEL[0] = LEVELS[level]


def get_logger(**context: Any) -> EchoLogger:
    return EchoLogger(context)
