"""Stop and reload requests from the operating system, on POSIX and on Windows.

POSIX: `loop.add_signal_handler` for SIGTERM/SIGINT (stop) and SIGHUP (reload).
Windows has no `add_signal_handler` and no SIGHUP: `signal.signal` handlers for SIGINT and
SIGBREAK (what WinSW's Ctrl+C and a console Ctrl+Break deliver) hand over to the loop with
`call_soon_threadsafe`, and a reload is asked for with a trigger file, `runtime/reload.request`
(`request_reload()` writes it, the daemon polls `reload_requested()` which consumes it). The
trigger files work on POSIX too.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

RELOAD_TRIGGER = "reload.request"
STOP_TRIGGER = "stop.request"


def install(
    loop: asyncio.AbstractEventLoop,
    on_stop: Callable[[], None],
    on_reload: Callable[[], None],
    *,
    windows: bool | None = None,
) -> Callable[[], None]:
    """Route stop and reload signals to the callbacks on `loop`; returns an uninstall function."""
    if windows if windows is not None else sys.platform == "win32":
        return _install_threadsafe(loop, on_stop)
    return _install_loop_handlers(loop, on_stop, on_reload)


def _install_loop_handlers(
    loop: asyncio.AbstractEventLoop, on_stop: Callable[[], None], on_reload: Callable[[], None]
) -> Callable[[], None]:
    wanted = {signal.SIGTERM: on_stop, signal.SIGINT: on_stop, signal.SIGHUP: on_reload}
    for signum, callback in wanted.items():
        loop.add_signal_handler(signum, callback)

    def uninstall() -> None:
        for signum in wanted:
            loop.remove_signal_handler(signum)

    return uninstall


def _install_threadsafe(
    loop: asyncio.AbstractEventLoop, on_stop: Callable[[], None]
) -> Callable[[], None]:
    """`signal.signal` runs handlers in the main thread between bytecodes: hand over safely."""

    def handler(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(on_stop)

    previous: dict[int, Any] = {}
    for name in ("SIGINT", "SIGBREAK", "SIGTERM"):
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, handler)

    def uninstall() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return uninstall


def request_reload(runtime_dir: Path) -> Path:
    """Ask a running daemon to reload its config (what `burnin reload` does)."""
    return _touch(Path(runtime_dir) / RELOAD_TRIGGER)


def reload_requested(runtime_dir: Path) -> bool:
    """True once per request: consumes `runtime/reload.request` if it exists."""
    return _consume(Path(runtime_dir) / RELOAD_TRIGGER)


def request_stop(runtime_dir: Path) -> Path:
    """Ask a running daemon to stop cleanly (a fallback where no console signal reaches it)."""
    return _touch(Path(runtime_dir) / STOP_TRIGGER)


def stop_requested(runtime_dir: Path) -> bool:
    """True once per request: consumes `runtime/stop.request` if it exists."""
    return _consume(Path(runtime_dir) / STOP_TRIGGER)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


def _consume(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
