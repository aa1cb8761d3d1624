"""The host: CPU busy %, memory %, and fullness of the disks holding given folders.

`cpu_busy_percent` is pure (two `psutil.cpu_times()` readings in, a percent out); `HostSampler`
keeps the previous reading so that each health tick measures CPU over the interval since the
last one, with no sleeping. Disks are de-duplicated by device.

A one-shot `burnin check` has no previous tick: its first reading is the previous check's, kept
in the user's cache folder (`sources.cpucache`; Nagios runs the check every minute, so the
sample spans that minute), or, without a usable one, a reading taken as it starts
(`first_reading`, handed to the sampler with `begin`); the host rule takes the second after
the other checks ran, and keeps it for the next check. burnin's own CPU over
that span is not counted as busy (`others_busy_percent`), so the figure is what the rest of
the host used while burnin looked, not burnin's own start-up.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.lazy import lazy
from daemon.sources import cpucache
from daemon.sources.registry import source

psutil = lazy("psutil")  # on first use: a check without host or process rules never imports it

_IDLE_FIELDS = ("idle", "iowait")


@dataclass(frozen=True, slots=True)
class HostLook:
    """One look at the host. `cpu_percent` is None on the first look (no interval yet)."""

    cpu_percent: float | None
    memory_percent: float
    disks: dict[str, float] = field(default_factory=dict)
    disk_errors: dict[str, str] = field(default_factory=dict)


def cpu_busy_percent(prev: Any, cur: Any) -> float | None:
    """Busy share of CPU time between two `cpu_times()` readings (all cores), in percent."""
    return others_busy_percent(prev, cur, 0.0)


def others_busy_percent(prev: Any, cur: Any, own_s: float) -> float | None:
    """Like `cpu_busy_percent`, with `own_s` CPU seconds (burnin's own, over the same span)
    counted as idle: the busy share of everything else on the host (pure)."""
    if prev is None:
        return None
    total = sum(cur) - sum(prev)
    idle = sum(getattr(cur, f, 0.0) - getattr(prev, f, 0.0) for f in _IDLE_FIELDS)
    if total <= 0:
        return None
    return min(100.0, max(0.0, (total - idle - max(0.0, own_s)) / total * 100.0))


def own_cpu_s() -> float:
    """CPU seconds this process (all threads) and its reaped children have used."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def disk_percents(paths: list[Path]) -> tuple[dict[str, float], dict[str, str]]:
    """Percent used of the filesystem of each path (first path per device), and errors."""
    seen: set[int] = set()
    used: dict[str, float] = {}
    errors: dict[str, str] = {}
    for path in paths:
        try:
            dev = os.stat(_existing(path)).st_dev
            if dev in seen:
                continue
            seen.add(dev)
            used[str(path)] = psutil.disk_usage(str(_existing(path))).percent
        except OSError as exc:
            errors[str(path)] = exc.strerror or str(exc)
    return used, errors


def _existing(path: Path) -> Path:
    """`path`, or its nearest existing ancestor (a runtime folder not created yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


@dataclass(frozen=True, slots=True)
class CpuReading:
    """One CPU reading: the host's `cpu_times()`, burnin's own CPU seconds, when (monotonic)."""

    times: Any
    own_s: float
    at: float


def cpu_reading(clock: Any) -> CpuReading:
    return CpuReading(psutil.cpu_times(), own_cpu_s(), clock.monotonic())


def first_reading(clock: Any) -> CpuReading:
    """A one-shot check's first CPU reading: the previous check's kept counters when usable
    (`sources.cpucache`: the sample then spans the time between the two runs, and all of this
    process's CPU is its own), else one taken now."""
    now = cpu_reading(clock)
    kept = cpucache.load(cpucache.path(), time.time(), psutil.boot_time(), now.times)
    if kept is None:
        return now
    times, age_s = kept
    return CpuReading(times, 0.0, now.at - age_s)


@source("host")
def host_sampler(env: Any) -> HostSampler:
    """The host sampler of `env`: it takes the folders whose disks it watches (the observed
    root and the runtime folder), not the whole Config."""
    return HostSampler([env.cfg.root, env.cfg.runtime_dir], env.clock,
                       oneshot=bool(getattr(env, "oneshot", False)))


class HostSampler:
    """Samples the host; CPU is measured between consecutive `sample()` calls.

    One-shot: the first reading is taken here, and burnin's own CPU since then is left out of
    the busy share (`others_busy_percent`)."""

    def __init__(self, paths: list[Path], clock: Any, *, oneshot: bool = False) -> None:
        self.paths, self.clock, self.oneshot = list(paths), clock, oneshot
        self._prev: Any = None
        self._own, self._since = 0.0, self.clock.monotonic()
        if self.oneshot:
            self.begin(cpu_reading(self.clock))

    def begin(self, first: CpuReading) -> None:
        """Measure the next CPU figure from `first` (a one-shot check's earliest reading)."""
        self._prev, self._own, self._since = first.times, first.own_s, first.at

    def span_s(self) -> float:
        """Real seconds since the previous CPU reading."""
        return self.clock.monotonic() - self._since

    def sample(self) -> HostLook:
        cur, own = psutil.cpu_times(), own_cpu_s()
        if self.oneshot:
            cpu = others_busy_percent(self._prev, cur, own - self._own)
            cpucache.save(cpucache.path(), cur, time.time(), psutil.boot_time())  # next check's
        else:
            cpu = cpu_busy_percent(self._prev, cur)
        self._prev, self._own, self._since = cur, own, self.clock.monotonic()
        disks, errors = disk_percents(self.paths)
        return HostLook(cpu, psutil.virtual_memory().percent, disks, errors)
