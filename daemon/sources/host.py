"""The host: CPU busy %, memory %, and fullness of the disks holding given folders.

`cpu_busy_percent` is pure (two `psutil.cpu_times()` readings in, a percent out); `HostSampler`
keeps the previous reading so that each health tick measures CPU over the interval since the
last one, with no sleeping. Disks are de-duplicated by device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from daemon.sources.registry import source

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
    if prev is None:
        return None
    total = sum(cur) - sum(prev)
    idle = sum(getattr(cur, f, 0.0) - getattr(prev, f, 0.0) for f in _IDLE_FIELDS)
    if total <= 0:
        return None
    return min(100.0, max(0.0, (total - idle) / total * 100.0))


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


@source("host")
class HostSampler:
    """Samples the host; CPU is measured between consecutive `sample()` calls."""

    def __init__(self, env: Any) -> None:
        self.paths = [env.cfg.root, env.cfg.runtime_dir]
        self._prev: Any = None

    def sample(self) -> HostLook:
        cur = psutil.cpu_times()
        cpu = cpu_busy_percent(self._prev, cur)
        self._prev = cur
        disks, errors = disk_percents(self.paths)
        return HostLook(cpu, psutil.virtual_memory().percent, disks, errors)
