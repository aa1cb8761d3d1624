"""burnin watching itself: its own RSS and CPU, and how late its event loop wakes up.

`SelfMonitor.run_lag_probe()` is a background task (started by the supervisor) that sleeps
0.25 s in a loop and records the oversleep: a check that blocks the loop for 300 ms shows up as
~300 ms of lag. `snapshot()` feeds the `daemon` block of status.json. The shared instance is the
source `selfmon` (`env.sources.get("selfmon")`, found by the source registry like any other),
so the supervisor and the `daemon_self` rule (daemon/checks/selfmon.py) see the same probe.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from daemon.clock import Clock
from daemon.lazy import lazy
from daemon.sources.registry import source
from daemon.unit import Env

psutil = lazy("psutil")  # on first use: a check without host or process rules never imports it

PROBE_INTERVAL_S = 0.25  # a block of > 100 ms still shows as oversleep of the probe spanning it
CPU_MIN_INTERVAL_S = 1.0


class SelfMonitor:
    """Event-loop lag samples and burnin's own resource use."""

    def __init__(self, clock: Clock, interval_s: float = PROBE_INTERVAL_S,
                 keep: int = 3000) -> None:
        self.clock = clock
        self.interval_s = interval_s
        self.lags: deque[tuple[float, float]] = deque(maxlen=keep)  # (monotonic, lag s)
        self.max_lag_s = 0.0
        self._proc: psutil.Process | None = None
        self._cpu_mark: tuple[float, float] | None = None  # (monotonic, cpu seconds)
        self._cpu_percent: float | None = None

    async def run_lag_probe(self) -> None:
        """Forever: sleep `interval_s` and record how much longer than that it took."""
        while True:
            start = self.clock.monotonic()
            await self.clock.sleep(self.interval_s)
            self.record(self.clock.monotonic() - start - self.interval_s)

    def record(self, lag_s: float) -> None:
        lag_s = max(0.0, lag_s)
        self.lags.append((self.clock.monotonic(), lag_s))
        self.max_lag_s = max(self.max_lag_s, lag_s)

    def lag_since(self, mono: float) -> float | None:
        """The worst lag recorded after `mono` (None without samples)."""
        recent = [lag for at, lag in self.lags if at > mono]
        return max(recent) if recent else None

    def snapshot(self) -> dict[str, Any]:
        """{"rss_bytes", "cpu_percent", "loop_lag_ms", "loop_lag_max_ms"} for status.json."""
        proc = self._proc = self._proc or psutil.Process()
        with proc.oneshot():
            rss = proc.memory_info().rss
            times = proc.cpu_times()
        self._update_cpu(times.user + times.system)
        recent = [lag for _, lag in list(self.lags)[-50:]]
        avg = sum(recent) / len(recent) if recent else None
        return {"rss_bytes": rss, "cpu_percent": self._cpu_percent,
                "loop_lag_ms": None if avg is None else round(avg * 1000, 2),
                "loop_lag_max_ms": round(self.max_lag_s * 1000, 2)}

    def _update_cpu(self, cpu_s: float) -> None:
        """CPU % of one core since the previous reading at least a second ago."""
        now = self.clock.monotonic()
        if self._cpu_mark is None:
            self._cpu_mark = (now, cpu_s)
            return
        span = now - self._cpu_mark[0]
        if span >= CPU_MIN_INTERVAL_S:
            self._cpu_percent = round((cpu_s - self._cpu_mark[1]) / span * 100.0, 2)
            self._cpu_mark = (now, cpu_s)


@source("selfmon")
def _shared(env: Env) -> SelfMonitor:
    return SelfMonitor(env.clock)
