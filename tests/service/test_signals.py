"""Stop/reload signals routed to the event loop, and the reload trigger file."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from daemon.service import signals


async def _deliver(signum: int, *, windows: bool) -> list[str]:
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    got = asyncio.Event()

    def record(name: str) -> None:
        seen.append(name)
        got.set()

    uninstall = signals.install(loop, lambda: record("stop"), lambda: record("reload"),
                                windows=windows)
    try:
        os.kill(os.getpid(), signum)
        await asyncio.wait_for(got.wait(), 5)
    finally:
        uninstall()
    return seen


@pytest.mark.anyio
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_posix_stop_signals_call_on_stop(signum: int) -> None:
    """SIGTERM and SIGINT call on_stop on the loop."""
    assert await _deliver(signum, windows=False) == ["stop"]


@pytest.mark.anyio
async def test_posix_sighup_calls_on_reload() -> None:
    """SIGHUP calls on_reload on the loop."""
    assert await _deliver(signal.SIGHUP, windows=False) == ["reload"]


@pytest.mark.anyio
async def test_threadsafe_path_stops_on_sigint() -> None:
    """The Windows path (signal.signal + call_soon_threadsafe) turns SIGINT into on_stop."""
    assert await _deliver(signal.SIGINT, windows=True) == ["stop"]


@pytest.mark.anyio
async def test_uninstall_restores_previous_handler() -> None:
    """Uninstalling the Windows-path handlers restores the previous SIGINT handler."""
    before = signal.getsignal(signal.SIGINT)
    uninstall = signals.install(asyncio.get_running_loop(), lambda: None, lambda: None,
                                windows=True)
    uninstall()
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.anyio
async def test_posix_uninstall_removes_loop_handlers() -> None:
    """Uninstalling removes the loop's handlers (SIGHUP is no longer routed)."""
    loop = asyncio.get_running_loop()
    signals.install(loop, lambda: None, lambda: None, windows=False)()
    assert loop.remove_signal_handler(signal.SIGHUP) is False


def test_reload_trigger_is_consumed_once(tmp_path: Path) -> None:
    """A reload request is seen exactly once."""
    signals.request_reload(tmp_path)
    assert [signals.reload_requested(tmp_path), signals.reload_requested(tmp_path)] == [True,
                                                                                        False]


def test_stop_trigger_is_consumed_once(tmp_path: Path) -> None:
    """A stop request is seen exactly once, and a missing runtime folder is just False."""
    assert signals.stop_requested(tmp_path / "missing") is False
    signals.request_stop(tmp_path)
    assert signals.stop_requested(tmp_path) is True
