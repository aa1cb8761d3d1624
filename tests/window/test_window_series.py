"""The window's time series: picking figures, 1-minute buckets, bounds, persistence."""

from __future__ import annotations

from daemon.window.series import FILE, Series, downsample, load, merge, pick


def test_pick_reads_the_status_metrics(status):
    """pick() takes RSS, CPU, queue, latency, rates and alert counts."""
    doc = status(3)
    point = pick(5.0, doc["metrics"], {"HIGH": 2}, doc["daemon"])
    assert point["pending"] == 3 and point["p95"] == 120 and point["alerts"]["HIGH"] == 2
    assert point["procs"]["worker"]["rss_mb"] == round(50_003_000 / 1048576, 3)


def test_memory_trend_is_the_steepest_process_and_a_peak():
    """mem_growth is the steepest process RSS slope; merging keeps the steeper one."""
    procs = {"a": {"rss_slope_mb_min": 0.2}, "b": {"rss_slope_mb_min": 1.5}, "c": {}}
    steep = pick(1.0, {"processes": procs}, None)
    flat = pick(2.0, {"processes": {"a": {"rss_slope_mb_min": 0.0}}}, None)
    assert steep["mem_growth"] == 1.5 and pick(3.0, {}, None)["mem_growth"] is None
    assert merge(flat, steep)["mem_growth"] == 1.5


def test_pick_turns_bad_figures_into_gaps():
    """Missing, non-numeric, NaN and boolean figures become None."""
    metrics = {"host": {"cpu_percent": float("nan")}, "jobs": {"pending": "3", "claimed": True},
               "processes": "nope"}
    point = pick(1.0, metrics, None)
    assert point["host_cpu"] is None and point["pending"] is None and point["claimed"] is None
    assert point["procs"] == {} and point["alerts"]["CRITICAL"] == 0


def test_adds_in_one_minute_merge_into_one_point(tmp_path, clock, status):
    """Two adds within one nominal minute are one point; peaks keep the max."""
    series = Series(tmp_path, clock)
    now = clock.time()
    series.add(now, status(1)["metrics"], {})
    series.add(now + 0.01, status(3)["metrics"], {})
    assert len(series.points()) == 1 and series.points()[0]["pending"] == 3


def test_a_new_minute_starts_a_new_point(tmp_path, clock, status):
    """An add one nominal minute later opens a new bucket."""
    series = Series(tmp_path, clock)
    series.add(clock.time(), status()["metrics"], {})
    series.add(clock.time() + 60 / 864, status()["metrics"], {})
    assert len(series.points()) == 2


def test_72_hours_stay_bounded(tmp_path, clock, status):
    """A 96 h run at one point a minute keeps at most max_points, spanning the whole run."""
    series = Series(tmp_path, clock, max_points=500)
    step = 60 / 864
    first = clock.time()
    for i in range(96 * 60):
        series.add(first + i * step, status(i)["metrics"], {})
    points = series.points()
    assert len(points) <= 501 and points[0]["t"] == first
    assert (tmp_path / FILE).stat().st_size < 2 * 501 * 1000


def test_downsample_merges_older_points_first():
    """downsample halves the older half and keeps the recent points as they were."""
    points = [{"t": float(i), "pending": float(i), "procs": {}, "alerts": {}} for i in range(8)]
    out = downsample(points, 6)
    assert [p["t"] for p in out] == [0.0, 2.0, 4.0, 5.0, 6.0, 7.0]
    assert out[0]["pending"] == 1.0


def test_merge_averages_gauges_and_keeps_peaks():
    """RSS is averaged; latency p95 and alert counts keep the max."""
    a = {"t": 0.0, "daemon_rss_mb": 10.0, "p95": 100.0, "procs": {}, "alerts": {"HIGH": 1}}
    b = {"t": 1.0, "daemon_rss_mb": 20.0, "p95": 300.0, "procs": {}, "alerts": {"HIGH": 0}}
    out = merge(a, b)
    assert (out["daemon_rss_mb"], out["p95"], out["alerts"]["HIGH"]) == (15.0, 300.0, 1)


def test_points_survive_a_restart(tmp_path, clock, status):
    """Closed points are on disk; a new Series on the folder reads them back."""
    series = Series(tmp_path, clock)
    for i in range(3):
        series.add(clock.time() + i * 60 / 864, status(i)["metrics"], {})
    series.save()
    assert len(Series(tmp_path, clock).points()) == 3


def test_torn_and_corrupt_lines_are_skipped(tmp_path):
    """A half-written last line or garbage does not stop loading."""
    text = '{"t": 1, "pending": 2}\nnot json\n[1]\n{"t": 2, "p95": "x"}\n{"t"'
    (tmp_path / FILE).write_text(text)
    points = load(tmp_path / FILE)
    assert [p["t"] for p in points] == [1, 2] and points[1]["p95"] is None
