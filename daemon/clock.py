"""The one clock of burnin, injected everywhere (STYLE.md §3).

All times handled by burnin are *real* seconds: epoch seconds for records, monotonic seconds for
intervals. The window's time scale lives here: a configured ("nominal") duration such as
`jobs.stale_claim_after = 5m` becomes `clock.real(300)` real seconds, so at time scale 864 a
72 h window passes in 5 real minutes. Nothing else calls `time.time()`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import asyncio


class Clock(Protocol):
    scale: float

    def time(self) -> float:
        """Real wall time, epoch seconds."""

    def monotonic(self) -> float:
        """Real monotonic seconds, for intervals."""

    async def sleep(self, real_s: float) -> None:
        """Sleep for `real_s` real seconds."""


def real(clock: Clock, nominal_s: float) -> float:
    """A configured (scaled) duration in real seconds."""
    return nominal_s / clock.scale


def nominal(clock: Clock, real_s: float) -> float:
    """Real seconds expressed in window (nominal) seconds."""
    return real_s * clock.scale


def iso(ts: float | None) -> str | None:
    """Epoch seconds as ISO-8601 UTC with a `Z`, millisecond precision."""
    if ts is None:
        return None
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_timestamp(value: object) -> float | None:
    """An ISO-8601 string (`Z` or offset; naive = UTC) or epoch number as epoch seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value == value and abs(value) < 1e11 else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class SystemClock:
    """The real clock, carrying the window's time scale."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        self.scale = float(scale)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, real_s: float) -> None:
        import asyncio  # here: a loopless one-shot check never imports it

        await asyncio.sleep(max(0.0, real_s))


class FakeClock:
    """A clock that moves only when a test calls `advance`; sleepers wake in time order."""

    def __init__(self, start: float = 1_800_000_000.0, scale: float = 1.0) -> None:
        self.scale = float(scale)
        self._wall = start
        self._mono = 1000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, real_s: float) -> None:
        import asyncio

        if real_s <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + real_s, fut))
        await fut

    def advance(self, real_s: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        self._wall += real_s
        self._mono += real_s
        due = [s for s in self._sleepers if s[0] <= self._mono]
        self._sleepers = [s for s in self._sleepers if s[0] > self._mono]
        for _, fut in sorted(due, key=lambda s: s[0]):
            if not fut.done():
                fut.set_result(None)
