"""The window's time series: the figures the verdict and the charts need, bounded.

One point per `resolution_s` of nominal time (1 min): several `add` calls inside one bucket
merge into one point. A closed point is appended to `series.jsonl` in the window folder; a
kill -9 loses at most the open bucket. Memory holds at most `max_points` (72 h at 1 min =
4,320): past that the older half is downsampled two-to-one, so longer windows keep their whole
span at a coarser step. The file is rewritten (atomically) from memory when it grows past
twice that. Bad figures in the input become gaps (None), never errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import structlog

from daemon import atomic
from daemon.clock import Clock
from daemon.numbers import number_at

log = structlog.get_logger(__name__)

FILE = "series.jsonl"
TIERS = ("CRITICAL", "HIGH", "MEDIUM", "INFO")
PEAKS = frozenset({"p50", "p95", "p99", "failed_rate", "lock_rate", "pending", "claimed",
                   "mem_growth"})
MAX_PROCS = 8
FIELDS = ("t", "daemon_rss_mb", "daemon_cpu", "host_cpu", "host_mem", "pending", "claimed",
          "p50", "p95", "p99", "failed_rate", "lock_rate", "mem_growth")
MB = 1024 * 1024

Point = dict[str, Any]


def _mb(value: float | None) -> float | None:
    return None if value is None else round(value / MB, 3)


def pick(now: float, metrics: object, alert_counts: object, daemon: object = None) -> Point:
    """One point from status.json's `metrics`, `alerts.counts` and `daemon` objects."""
    return {
        "t": now,
        "daemon_rss_mb": _mb(number_at(daemon, "rss_bytes")),
        "daemon_cpu": number_at(daemon, "cpu_percent"),
        "host_cpu": number_at(metrics, "host", "cpu_percent"),
        "host_mem": number_at(metrics, "host", "memory_percent"),
        "procs": _procs(metrics),
        "pending": number_at(metrics, "jobs", "pending"),
        "claimed": number_at(metrics, "jobs", "claimed"),
        "p50": number_at(metrics, "jobs", "latency_ms", "p50"),
        "p95": number_at(metrics, "jobs", "latency_ms", "p95"),
        "p99": number_at(metrics, "jobs", "latency_ms", "p99"),
        "failed_rate": number_at(metrics, "jobs", "failed_rate"),
        "lock_rate": number_at(metrics, "locks", "rate"),
        "mem_growth": _worst_slope(metrics),
        "alerts": {tier: int(number_at(alert_counts, tier) or 0) for tier in TIERS},
    }


def _worst_slope(metrics: object) -> float | None:
    """The steepest RSS trend (MB/min) of any watched process, None when none is known."""
    procs = metrics.get("processes") if isinstance(metrics, dict) else None
    if not isinstance(procs, dict):
        return None
    return max((s for p in procs.values() if (s := number_at(p, "rss_slope_mb_min")) is not None),
               default=None)


def _procs(metrics: object) -> dict[str, dict[str, float | None]]:
    procs = metrics.get("processes") if isinstance(metrics, dict) else None
    if not isinstance(procs, dict):
        return {}
    names = sorted(str(k) for k in procs)[:MAX_PROCS]
    return {n: {"rss_mb": _mb(number_at(procs, n, "rss_bytes")),
                "cpu": number_at(procs, n, "cpu_percent")} for n in names}


def _combine(key: str, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return b if a is None else a
    return max(a, b) if key in PEAKS else round((a + b) / 2, 3)


def merge(a: Point, b: Point) -> Point:
    """Two points as one: time of the first, peaks (latency, rates, queue, memory trend) max,
    others mean."""
    out: Point = {k: _combine(k, a.get(k), b.get(k)) for k in a if k not in ("procs", "alerts")}
    out["t"] = a["t"]
    out["alerts"] = {t: max(a["alerts"].get(t, 0), b["alerts"].get(t, 0)) for t in TIERS}
    names = sorted(set(a["procs"]) | set(b["procs"]))[:MAX_PROCS]
    out["procs"] = {n: _merge_proc(a["procs"].get(n), b["procs"].get(n)) for n in names}
    return out


def _merge_proc(a: dict | None, b: dict | None) -> dict:
    if a is None or b is None:
        return dict(b if a is None else a)  # type: ignore[arg-type]
    return {k: _combine(k, a.get(k), b.get(k)) for k in ("rss_mb", "cpu")}


def downsample(points: list[Point], max_points: int) -> list[Point]:
    """Halve the resolution of the older half until at most `max_points` remain."""
    while len(points) > max_points:
        half = len(points) // 2
        old = [merge(points[i], points[i + 1]) if i + 1 < half else points[i]
               for i in range(0, half, 2)]
        points = old + points[half:]
    return points


class Series:
    def __init__(self, folder: Path, clock: Clock, resolution_s: float = 60.0,
                 max_points: int = 4320) -> None:
        self.path = Path(folder) / FILE
        self.clock = clock
        self.resolution_s = resolution_s
        self.max_points = max(2, max_points)
        self._closed: list[Point] = load(self.path)
        self._open: Point | None = None
        self._lines = len(self._closed)
        self._closed = downsample(self._closed, self.max_points)

    def add(self, now: float, status_metrics: object, alert_counts: object,
            daemon: object = None) -> None:
        """Record the figures seen at real time `now`."""
        point = pick(now, status_metrics, alert_counts, daemon)
        if self._open is not None and self._bucket(self._open) == self._bucket(point):
            self._open = {**merge(self._open, point), "t": self._open["t"]}
            return
        self._close()
        self._open = point

    def points(self) -> list[Point]:
        """Every point, oldest first (the open bucket included)."""
        return self._closed + ([self._open] if self._open is not None else [])

    def save(self) -> None:
        """Persist the open bucket too (at shutdown and before a report)."""
        self._close()

    def _bucket(self, point: Point) -> int:
        """Bucket number, counted from the first point (robust to float jitter at edges)."""
        first = self._closed[0]["t"] if self._closed else self._open["t"] if self._open else 0.0
        return round((point["t"] - first) * self.clock.scale / self.resolution_s)

    def _close(self) -> None:
        if self._open is None:
            return
        point, self._open = self._open, None
        self._closed.append(point)
        self._append(point)
        if len(self._closed) > self.max_points:
            self._closed = downsample(self._closed, self.max_points)
        if self._lines > 2 * self.max_points:
            self._rewrite()

    def _append(self, point: Point) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            fh.write(orjson.dumps(point) + b"\n")
        self._lines += 1

    def _rewrite(self) -> None:
        atomic.write_bytes(self.path, b"".join(orjson.dumps(p) + b"\n" for p in self._closed))
        self._lines = len(self._closed)


def load(path: Path) -> list[Point]:
    """The points stored in `path`; a torn or corrupt line is skipped and logged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    points: list[Point] = []
    for line in data.splitlines():
        point = _parse(line)
        if point is None:
            log.warning("series.bad_line", path=str(path), line=line[:80].decode(errors="replace"))
            continue
        points.append(point)
    points.sort(key=lambda p: p["t"])
    return points


def _parse(line: bytes) -> Point | None:
    """A stored point, re-validated field by field (bad figures become None)."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or number_at(doc, "t") is None:
        return None
    found = doc.get("procs")
    procs = found if isinstance(found, dict) else {}
    point: Point = {k: number_at(doc, k) for k in FIELDS}
    point["procs"] = {str(n): {"rss_mb": number_at(v, "rss_mb"), "cpu": number_at(v, "cpu")}
                      for n, v in list(procs.items())[:MAX_PROCS]}
    point["alerts"] = {t: int(number_at(doc, "alerts", t) or 0) for t in TIERS}
    return point
