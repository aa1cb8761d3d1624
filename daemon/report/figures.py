"""The report's graded figures: the last value, the worst one seen in the window, and a band
that is never better than the alert that fired for the figure (SPEC §5).

The verdict grades each figure on its last value (`daemon.window.verdict.figures`); a window
can end with a lock timeout rate of 0 after an hour above 5 %. Here each figure also gets
its worst value (the window's time series and the evidence of its alerts) and its band
becomes the worst of: the band of the last value, the band of the worst value, and the band
of the worst alert that fired for it (CRITICAL red, HIGH or MEDIUM yellow). Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from daemon.numbers import number_at
from daemon.records import Episode
from daemon.window.verdict import RANK, Figure, Thresholds, band, severity_of


@dataclass(frozen=True)
class Source:
    """Where a figure's worst value and its alerts come from."""

    series: str | None  # field of a series point
    codes: tuple[str, ...]  # alert codes raised from the same threshold
    evidence: str | None  # the figure's key in those alerts' evidence


SOURCES = {
    "lock_timeout_rate": Source("lock_rate", ("locks.timeout_rate",), "rate"),
    "failed_notification_rate": Source("failed_rate", ("jobs.failed_notifications",), "rate"),
    "job_latency_p95_ms": Source("p95", ("jobs.latency",), "p95"),
    "memory_growth_mb_min": Source("mem_growth", ("process.memory_growth",), "slope_mb_min"),
    "stale_claims": Source(None, ("jobs.stale_claim", "jobs.stale_claims_excessive"), None),
}
ALERT_BAND = {"CRITICAL": "red", "HIGH": "yellow", "MEDIUM": "yellow", "INFO": "green"}
BAND_RANK = {"unknown": 0, "green": 1, "yellow": 2, "red": 3}
SEVERITY_RANK = RANK


@dataclass(frozen=True, slots=True)
class FigureAlert:
    """The most severe alert that fired for a figure, how many fired, and whether all of that
    tier were silenced before firing (expected)."""

    severity: str
    code: str
    count: int
    expected: bool


@dataclass(frozen=True, slots=True)
class Graded(Figure):
    """A figure with its last and worst value, its worst alert, and a band never better than
    any of them (the report's `verdict.figures`)."""

    last: float | None = None
    worst: float | None = None
    alert: FigureAlert | None = None


def grade(figures: Sequence[Figure], points: list[dict[str, Any]],
          alerts: Sequence[Episode], th: Thresholds | None = None) -> list[Graded]:
    """Each figure with `last`, `worst`, `alert` (the worst that fired for it) and its band."""
    return [grade_one(f, points, alerts, th or Thresholds()) for f in figures]


def grade_one(fig: Figure, points: list[dict[str, Any]], alerts: Sequence[Episode],
              th: Thresholds) -> Graded:
    src = SOURCES.get(fig.key, Source(None, (), None))
    mine = [a for a in alerts if a.code in src.codes]
    last = fig.value
    seen = [last, *(p.get(src.series) for p in points if src.series)]
    seen += [number_at(a.evidence, src.evidence) for a in mine if src.evidence]
    worst = worst_of(seen)
    alert = worst_alert(mine)
    bands = [fig.band, value_band(fig.key, worst, th)]
    if alert is not None:
        bands.append(ALERT_BAND[alert.severity])
    return Graded(**(asdict(fig) | {"band": max(bands, key=lambda b: BAND_RANK.get(b, 0))}),
                  last=last, worst=worst, alert=alert)


def worst_of(values: list[object]) -> float | None:
    """The largest number among `values` (every graded figure is worse when higher)."""
    nums = [float(v) for v in values
            if isinstance(v, int | float) and not isinstance(v, bool) and v == v]
    return max(nums, default=None)


def value_band(key: str, value: float | None, th: Thresholds) -> str:
    """The SPEC §5 band of `value` for the figure `key` (as the verdict grades it)."""
    limits = {
        "lock_timeout_rate": (th.lock_timeout_high, th.lock_timeout_critical),
        "failed_notification_rate": (th.failed_notify_high, th.failed_notify_critical),
        "job_latency_p95_ms": (th.latency_p95_high_ms, th.latency_p95_critical_ms),
        "memory_growth_mb_min": (th.memory_growth_high_mb_min,
                                 th.memory_growth_critical_mb_min),
    }
    if key == "stale_claims":
        return band(value, 1, th.stale_claims_excessive, red_at=True)
    if key not in limits:
        return "unknown"
    return band(value, *limits[key])


def worst_alert(alerts: Sequence[Episode]) -> FigureAlert | None:
    """The most severe alert of a figure: severity, code, how many fired, expected or not."""
    if not alerts:
        return None
    top = max(alerts, key=lambda a: SEVERITY_RANK[severity_of(a)])
    sev = severity_of(top)
    same = [a for a in alerts if severity_of(a) == sev]
    return FigureAlert(severity=sev, code=top.code, count=len(alerts),
                       expected=all(a.silenced_before_fire for a in same))
