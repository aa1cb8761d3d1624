"""Graded figures: the worst value beside the last one, a band never better than its alert."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.clock import FakeClock, iso
from daemon.records import Episode, Figures
from daemon.report.figures import ALERT_BAND, BAND_RANK, SOURCES, grade, grade_one, value_band
from daemon.window.lifecycle import WindowRunner
from daemon.window.verdict import Figure, Thresholds, figures, severity_of

TH = Thresholds()
START = 1_800_000_000.0


def alert(code: str, severity: str, expected: bool = False, **evidence: float) -> Episode:
    return Episode(code=code, severity=severity, subject=code.split(".")[0], status="firing",
                   kind="condition", message="", fingerprint=f"{code}|x",
                   first_seen=iso(START), evidence=evidence, silenced_before_fire=expected)


def fig(key: str, value: float | None) -> Figure:
    """The verdict's figure for `key` graded on its last value only (as verdict.py does)."""
    metrics = {"locks": {"rate": value}, "jobs": {"failed_rate": value,
                                                  "latency_ms": {"p95": value}},
               "processes": {"w": {"rss_slope_mb_min": value}}}
    return next(f for f in figures(metrics, [], TH) if f.key == key)


@pytest.mark.parametrize(("key", "last", "series", "fired", "band", "worst"), [
    # the issue's two cases: green end values beside CRITICAL alerts
    ("lock_timeout_rate", 0.0, [0.0, 0.0], [alert("locks.timeout_rate", "CRITICAL")], "red",
     0.0),
    ("memory_growth_mb_min", 0.0, [], [alert("process.memory_growth", "CRITICAL",
                                             slope_mb_min=2.5)], "red", 2.5),
    # the worst value from the series alone
    ("lock_timeout_rate", 0.0, [0.001, 0.07, 0.0], [], "red", 0.07),
    ("failed_notification_rate", 0.0, [0.005], [], "yellow", 0.005),
    ("job_latency_p95_ms", 120.0, [130.0, 700.0], [], "yellow", 700.0),
    ("memory_growth_mb_min", 0.01, [0.01, 0.02], [], "green", 0.02),
    # a HIGH alert makes at least yellow; its evidence counts as a value seen
    ("job_latency_p95_ms", 100.0, [], [alert("jobs.latency", "HIGH", p95=650.0)], "yellow",
     650.0),
    ("failed_notification_rate", 0.0, [], [alert("jobs.failed_notifications", "MEDIUM")],
     "yellow", 0.0),
    # an escalated stale claim (CRITICAL) makes the count red
    ("stale_claims", None, [], [alert("jobs.stale_claim", "CRITICAL")], "red", None),
    # an alert of another code does not touch the figure
    ("lock_timeout_rate", 0.0, [0.0], [alert("state.corrupt", "CRITICAL")], "green", 0.0),
    # a silenced-before-firing alert still fired: the figure says so (the verdict skips it)
    ("lock_timeout_rate", 0.0, [], [alert("locks.timeout_rate", "HIGH", expected=True)],
     "yellow", 0.0),
])
def test_band_and_worst_table(key, last, series, fired, band, worst):
    """Each figure's worst value and band from its last value, series and alerts."""
    src = SOURCES[key]
    points = [{src.series: v} for v in series] if src.series else []
    base = fig(key, last) if key != "stale_claims" else Figure(
        key, "Stale claims", last, "count", "unknown")
    out = grade_one(base, points, fired, TH)
    assert (out.band, out.worst, out.last) == (band, worst, last)


@pytest.mark.parametrize(("key", "severity"), list(itertools.product(
    SOURCES, ("INFO", "MEDIUM", "HIGH", "CRITICAL"))))
def test_a_band_is_never_better_than_the_alert_that_fired(key, severity):
    """For every figure and tier, with a green last value and series: band >= alert band."""
    for code in SOURCES[key].codes:
        base = Figure(key, key, 0.0, "x", "green")
        out = grade_one(base, [{SOURCES[key].series: 0.0}], [alert(code, severity)], TH)
        assert BAND_RANK[out.band] >= BAND_RANK[ALERT_BAND[severity]]
        assert out.alert is not None
        assert (out.alert.severity, out.alert.code) == (severity, code)


def test_grade_keeps_order_and_fields():
    """grade() returns every figure, in order, with the verdict's fields kept."""
    base = figures({}, [], TH)
    out = grade(base, [], [])
    assert [f.key for f in out] == [f.key for f in base]
    assert all(f.label and f.last == f.value and f.alert is None for f in out)


def lock_status(rate: float) -> dict:
    return {"metrics": {"locks": {"rate": rate}, "jobs": {"failed_rate": 0.0},
                        "processes": {"worker": {"rss_slope_mb_min": 0.0}}},
            "alerts": {"open": [], "counts": {}}, "daemon": {}, "system": "ledger-prod"}


def test_final_report_of_a_window_with_a_lock_storm(tmp_path: Path):
    """A real window folder: lock timeouts at 8 % mid-window (CRITICAL fired), 0 at the end.
    final.md shows 0 last, 8 % worst, red, the alert; final.json names the system."""
    clock = FakeClock(start=START, scale=864.0)
    runner = WindowRunner(tmp_path, clock, 7200.0, 864.0, 0.0)
    runner.start()
    fired = [alert("locks.timeout_rate", "CRITICAL", rate=0.08)]
    for i in range(120):
        clock.advance(60 / 864)
        runner.on_tick(clock.time(), Figures.parse(lock_status(0.08 if 40 <= i < 50 else 0.0)),
                       fired)
    runner.finish(clock.time(), fired, Figures.parse(lock_status(0.0)))
    folder = tmp_path / "reports" / runner.window.id
    text = (folder / "final.md").read_text()
    assert "| Lock timeout rate | 0.000 % | 8.000 % | red | CRITICAL locks.timeout\\_rate ×1 |" \
        in text
    assert "- Lock timeout rate: 0.000 % last, worst 8.000 % (red)" in text
    doc = orjson.loads((folder / "final.json").read_bytes())
    assert doc["system"] == "ledger-prod" and doc["interim"] is False
    assert "green" not in {f["band"] for f in doc["verdict"]["figures"]
                           if f["key"] == "lock_timeout_rate"}


SEVERITIES = ("INFO", "MEDIUM", "HIGH", "CRITICAL")
values = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(SOURCES)), last=values, series=st.lists(values, max_size=8),
       fired=st.lists(st.tuples(st.integers(0, 1), st.sampled_from(SEVERITIES), values),
                      max_size=4))
def test_graded_figure_invariants(key, last, series, fired):
    """For any figures: worst >= last and >= every series value, the band never better than
    the band of the last value, of the worst value, or of any alert that fired for it."""
    src = SOURCES[key]
    alerts = [alert(src.codes[min(i, len(src.codes) - 1)], sev,
                    **({src.evidence: ev} if src.evidence and ev is not None else {}))
              for i, sev, ev in fired]
    base = Figure(key, key, last, "x", "unknown")
    points = [{src.series: v} for v in series] if src.series else []
    out = grade_one(base, points, alerts, TH)
    seen = [v for v in [last, *(series if src.series else [])] if v is not None]
    if seen:
        assert out.worst is not None and out.worst >= max(seen)
    floor = [ALERT_BAND[severity_of(a)] for a in alerts]
    floor += [value_band(key, out.worst, TH), value_band(key, last, TH)]
    assert all(BAND_RANK[out.band] >= BAND_RANK[b] for b in floor)


def test_an_event_is_never_counted_as_still_open():
    """Issues found: an event (no resolution) is a fact, not an alert still open."""
    from daemon.report.document import issue_groups, issues
    event = replace(alert("jobs.duplicate_processing", "CRITICAL"), kind="event")
    cond = alert("state.corrupt", "CRITICAL")
    groups = {g["code"]: g for g in issue_groups(issues([event, cond], 1.0))}
    assert groups["jobs.duplicate_processing"]["open"] == 0
    assert groups["state.corrupt"]["open"] == 1
