"""sd_notify(3) over `NOTIFY_SOCKET`, without libsystemd: one datagram per message.

`Notifier` is a no-op when the service manager did not set `NOTIFY_SOCKET` (a terminal, a
test, Windows). A path starting with `@` names a Linux abstract socket. The watchdog interval
is half of `WATCHDOG_USEC`, and only when `WATCHDOG_PID` (if set) is our pid. Sending never
raises: a failure is counted in `errors` and kept in `last_error` (the daemon must not die
because its service manager went away).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from daemon.clock import Clock


class Notifier:
    """Send READY/STATUS/WATCHDOG/RELOADING/STOPPING to the service manager."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        pid: int | None = None,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        env = os.environ if env is None else env
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog_usec = _watchdog_usec(env, os.getpid() if pid is None else pid)
        self._monotonic_ns = monotonic_ns
        self._sock: socket.socket | None = None
        self.errors = 0
        self.last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def watchdog_interval_s(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), None without a watchdog."""
        if self._watchdog_usec is None or not self.enabled:
            return None
        return self._watchdog_usec / 2_000_000

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *(_status(status)))

    def status(self, text: str) -> bool:
        return self.notify(*_status(text))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def reloading(self) -> bool:
        """RELOADING=1 with MONOTONIC_USEC (Type=notify-reload); send ready() when done."""
        usec = self._monotonic_ns() // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *(_status(status)))

    def notify(self, *fields: str) -> bool:
        """Send one message of `KEY=value` lines; True if it was sent."""
        if self.address is None:
            return False
        payload = "\n".join(fields).encode("utf-8", "replace")
        try:
            self._socket().sendto(payload, self.address)
        except OSError as exc:
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False
        return True

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # type: ignore[attr-defined]
            sock.setblocking(False)  # never stall the event loop on a full socket buffer
            self._sock = sock
        return self._sock


async def run_watchdog(notifier: Notifier, clock: Clock) -> None:
    """Ping WATCHDOG=1 from the event loop every `watchdog_interval_s()`; returns if none.

    Run it as an asyncio task: if the loop is stuck, the pings stop and systemd restarts us.
    """
    interval = notifier.watchdog_interval_s()
    if interval is None:
        return
    while True:
        notifier.watchdog()
        await clock.sleep(interval)


def _address(value: str) -> Any:
    """The socket address of NOTIFY_SOCKET, or None (unset, unsupported, malformed)."""
    if not value or not hasattr(socket, "AF_UNIX"):
        return None
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None  # vsock:… and relative paths are not supported


def _watchdog_usec(env: Mapping[str, str], pid: int) -> int | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    watchdog_pid = env.get("WATCHDOG_PID", "")
    if watchdog_pid and watchdog_pid.strip() != str(pid):
        return None
    return usec


def _status(text: str | None) -> list[str]:
    if text is None:
        return []
    return ["STATUS=" + " ".join(text.split())]  # one line: a newline would end the field


def status_line(status: Mapping[str, Any] | None) -> str:
    """A one-line STATUS= text from a status.json document: verdict, open alerts, progress."""
    if not isinstance(status, Mapping):
        return "starting"
    counts = _mapping(_mapping(status.get("alerts")).get("counts"))
    parts = [f"verdict {status.get('verdict', '?')}"]
    tiers = [(k, counts.get(k)) for k in ("CRITICAL", "HIGH", "MEDIUM")]
    parts.append("open " + " ".join(f"{k[0]}{_int(v)}" for k, v in tiers))
    window = _mapping(status.get("window"))
    elapsed, duration = window.get("elapsed_s"), window.get("duration_s")
    if _is_num(elapsed) and _is_num(duration) and duration > 0:
        parts.append(f"window {min(100.0, 100.0 * elapsed / duration):.1f}%")
    return ", ".join(parts)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(value: Any) -> int:
    return int(value) if _is_num(value) and value == value else 0
