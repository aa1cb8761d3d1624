"""sd_notify over a real datagram socket (path and abstract namespace)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.clock import FakeClock
from daemon.service.sdnotify import Notifier, run_watchdog, status_line


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "n.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


def _recv(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_arrives_on_a_path_socket(listener: tuple[socket.socket, str]) -> None:
    """READY=1 arrives as one datagram on NOTIFY_SOCKET."""
    sock, path = listener
    with Notifier({"NOTIFY_SOCKET": path}) as n:
        assert n.ready()
    assert _recv(sock) == ["READY=1"]


def test_abstract_socket_is_reached() -> None:
    """A NOTIFY_SOCKET starting with @ reaches a Linux abstract socket."""
    name = f"burnin-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        with Notifier({"NOTIFY_SOCKET": "@" + name}) as n:
            assert n.watchdog()
        assert _recv(sock) == ["WATCHDOG=1"]
    finally:
        sock.close()


def test_full_lifecycle_sequence(listener: tuple[socket.socket, str]) -> None:
    """READY, STATUS, WATCHDOG, RELOADING and STOPPING arrive in order."""
    sock, path = listener
    with Notifier({"NOTIFY_SOCKET": path}, monotonic_ns=lambda: 5_000_000) as n:
        n.ready("started")
        n.status("verdict GREEN")
        n.watchdog()
        n.reloading()
        n.stopping()
    got = [_recv(sock) for _ in range(5)]
    assert got == [["READY=1", "STATUS=started"], ["STATUS=verdict GREEN"], ["WATCHDOG=1"],
                   ["RELOADING=1", "MONOTONIC_USEC=5000"], ["STOPPING=1"]]


def test_status_text_is_kept_on_one_line(listener: tuple[socket.socket, str]) -> None:
    """A newline in a status text cannot inject another field."""
    sock, path = listener
    with Notifier({"NOTIFY_SOCKET": path}) as n:
        n.status("a\nREADY=1")
    assert _recv(sock) == ["STATUS=a READY=1"]


def test_without_notify_socket_nothing_is_sent() -> None:
    """Without NOTIFY_SOCKET every call is a no-op returning False."""
    n = Notifier({})
    assert not n.enabled and not n.ready() and n.watchdog_interval_s() is None


def test_missing_socket_is_counted_not_raised(tmp_path: Path) -> None:
    """A NOTIFY_SOCKET that does not exist is an error count, never an exception."""
    with Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}) as n:
        assert n.ready() is False
    assert n.errors == 1 and "FileNotFoundError" in (n.last_error or "")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "banana"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(env: dict[str, str],
                                                    expected: float | None) -> None:
    """The watchdog interval is half of WATCHDOG_USEC, for our pid only, None when malformed."""
    n = Notifier({"NOTIFY_SOCKET": "/run/x.sock", **env}, pid=4242)
    assert n.watchdog_interval_s() == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, "starting"),
        ({"verdict": "YELLOW", "alerts": {"counts": {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 1}},
          "window": {"elapsed_s": 3600, "duration_s": 14400}},
         "verdict YELLOW, open C0 H2 M1, window 25.0%"),
        ({"verdict": "GREEN", "alerts": "junk", "window": {"duration_s": 0}},
         "verdict GREEN, open C0 H0 M0"),
    ],
)
def test_status_line_summarises_status(status: dict | None, expected: str) -> None:
    """status_line gives verdict, open counts and window progress, tolerating bad input."""
    assert status_line(status) == expected


@pytest.mark.anyio
async def test_run_watchdog_pings_every_half_interval(listener: tuple[socket.socket, str],
                                                      fake_clock: FakeClock) -> None:
    """run_watchdog sends WATCHDOG=1 at once and again after each half WATCHDOG_USEC."""
    sock, path = listener
    with Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}) as n:
        task = asyncio.create_task(run_watchdog(n, fake_clock))
        await asyncio.sleep(0)
        fake_clock.advance(1.0)
        await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert [_recv(sock), _recv(sock)] == [["WATCHDOG=1"], ["WATCHDOG=1"]]


@pytest.mark.anyio
async def test_run_watchdog_returns_without_watchdog(fake_clock: FakeClock) -> None:
    """Without WATCHDOG_USEC run_watchdog returns at once."""
    with Notifier({"NOTIFY_SOCKET": "/nonexistent"}) as n:
        await run_watchdog(n, fake_clock)
    assert n.errors == 0
