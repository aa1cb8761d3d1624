"""A real process wired like the supervisor: NOTIFY_SOCKET, watchdog task, SIGTERM stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SERVICE = """
import asyncio
from daemon.clock import SystemClock
from daemon.service import signals
from daemon.service.sdnotify import Notifier, run_watchdog, status_line

async def main() -> int:
    stop = asyncio.Event()
    uninstall = signals.install(asyncio.get_running_loop(), stop.set, lambda: None)
    with Notifier() as notifier:
        watchdog = asyncio.create_task(run_watchdog(notifier, SystemClock()))
        notifier.ready(status_line(None))
        notifier.status(status_line({"verdict": "GREEN", "alerts": {"counts": {"HIGH": 1}}}))
        await stop.wait()
        notifier.stopping()
        watchdog.cancel()
    uninstall()
    return 0

raise SystemExit(asyncio.run(main()))
"""


def _messages(sock: socket.socket, until: str) -> list[str]:
    got: list[str] = []
    while until not in got:
        got.append(sock.recv(4096).decode())
    return got


def test_service_process_notifies_and_stops_on_sigterm(tmp_path: Path) -> None:
    """A real process sends READY, STATUS and WATCHDOG, then STOPPING and exits 0 on SIGTERM."""
    name = f"burnin-proc-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(20)
    env = {**os.environ, "NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "200000"}
    proc = subprocess.Popen([sys.executable, "-c", SERVICE], cwd=REPO, env=env)
    try:
        before = _messages(sock, "STATUS=verdict GREEN, open C0 H1 M0")
        pings = _messages(sock, "WATCHDOG=1") + _messages(sock, "WATCHDOG=1")
        proc.send_signal(signal.SIGTERM)
        after = _messages(sock, "STOPPING=1")
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait(10)
        sock.close()
    assert "READY=1\nSTATUS=starting" in before
    assert pings.count("WATCHDOG=1") >= 2 and after[-1] == "STOPPING=1"
