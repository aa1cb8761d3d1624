"""Pure decisions of the process rule: pidfile text, CPU over samples, RSS trend, bands."""

from __future__ import annotations

import pytest

from daemon.checks.process import (
    MB,
    cpu_percent_over,
    floor_series,
    growth_severity,
    lsq_slope,
    rss_slope_mb_min,
)
from daemon.config import ThresholdsCfg
from daemon.model import Severity
from daemon.sources.procs import parse_pid


@pytest.mark.parametrize(("text", "pid"), [
    ("1234\n", 1234),
    ("  42  ", 42),
    ("77\nextra\n", 77),
    ("", None),
    ("abc", None),
    ("-5", None),
    ("0", None),
    ("12.5", None),
    ("99999999999999", None),
    ("١٢٣", None),  # Arabic-Indic digits are not a pid
    ("\x00\x00\x00", None),
])
def test_parse_pid(text: str, pid: int | None) -> None:
    """A pidfile holds one positive decimal pid on its first line; anything else is garbage."""
    assert parse_pid(text) == pid


@pytest.mark.parametrize(("samples", "n", "expected"), [
    ([(0, 0, 0.0), (10, 0, 5.0)], 1, 50.0),
    ([(0, 0, 0.0), (1, 0, 1.0), (2, 0, 1.0), (3, 0, 1.0), (4, 0, 1.0), (5, 0, 1.0)], 5, 20.0),
    ([(0, 0, 0.0), (1, 0, 1.0)], 5, None),
    ([(5, 0, 0.0), (5, 0, 1.0)], 1, None),
    ([(0, 0, 2.0), (1, 0, 1.0)], 1, 0.0),
])
def test_cpu_percent_over(samples: list[tuple[float, int, float]], n: int,
                          expected: float | None) -> None:
    """CPU % is CPU seconds over real seconds across the last n intervals, None until n exist."""
    assert cpu_percent_over(samples, n) == expected


def test_floor_series_ignores_short_spike() -> None:
    """A spike shorter than the floor window does not lift the floor."""
    assert floor_series([10, 10, 60, 60, 10, 10], k=3) == [10, 10, 10, 10, 10, 10]


def test_lsq_slope_of_a_line() -> None:
    """The least-squares slope of points on a line is the line's slope."""
    assert lsq_slope([0, 1, 2, 3], [1, 3, 5, 7]) == pytest.approx(2.0)


def test_lsq_slope_needs_spread() -> None:
    """One x value gives no slope."""
    assert lsq_slope([1, 1], [1, 2]) is None


def _series(rate_mb_min: float, minutes: int, every_s: float = 60.0) -> list:
    n = int(minutes * 60 / every_s) + 1
    return [(i * every_s, int(100 * MB + rate_mb_min * MB * i * every_s / 60), 0.0)
            for i in range(n)]


def test_rss_slope_of_steady_leak() -> None:
    """A leak of 0.5 MB/min over 30 minutes measures 0.5 MB/min."""
    assert rss_slope_mb_min(_series(0.5, 30), 1800) == pytest.approx(0.5, rel=0.01)


def test_rss_slope_needs_min_span() -> None:
    """Less than the minimum span of samples gives no trend."""
    assert rss_slope_mb_min(_series(5.0, 29), 1800) is None


def test_rss_spike_then_free_is_no_trend() -> None:
    """A 200 MB spike held for 2 samples near the end, then freed, is not growth."""
    samples = _series(0.0, 40)
    for i in (35, 36):
        samples[i] = (samples[i][0], samples[i][1] + 200 * MB, 0.0)
    slope = rss_slope_mb_min(samples, 1800)
    assert slope is not None and abs(slope) < 0.1


def test_rss_spike_still_held_at_the_end_is_no_trend() -> None:
    """A spike seen in the last 2 samples only does not fire before the floor rises."""
    samples = _series(0.0, 40)
    for i in (39, 40):
        samples[i] = (samples[i][0], samples[i][1] + 200 * MB, 0.0)
    slope = rss_slope_mb_min(samples, 1800)
    assert slope is not None and abs(slope) < 0.1


@pytest.mark.parametrize(("slope", "severity"), [
    (None, None),
    (0.05, None),
    (0.1, None),
    (0.11, Severity.HIGH),
    (1.0, Severity.HIGH),
    (1.01, Severity.CRITICAL),
    (-3.0, None),
])
def test_growth_severity_bands(slope: float | None, severity: Severity | None) -> None:
    """SPEC bands: < 0.1 GO, 0.1-1.0 HIGH, > 1.0 CRITICAL MB/min."""
    assert growth_severity(slope, ThresholdsCfg()) == severity


def test_tiny_rise_over_a_short_span_is_no_leak() -> None:
    """Warm-up of a few hundred kB over seconds (high time scale) is not a leak."""
    from daemon.checks.process import growth_severity
    from daemon.config import ThresholdsCfg

    th = ThresholdsCfg()
    assert growth_severity(0.5, th, span_min=0.02) is None  # 10 kB risen
    assert growth_severity(0.5, th, span_min=30.0) is not None  # 15 MB risen
