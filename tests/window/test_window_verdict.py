"""The verdict rules of SPEC §5 as tables."""

from __future__ import annotations

import pytest

from daemon.clock import iso
from daemon.records import episodes
from daemon.window.state import HostShare
from daemon.window.verdict import Thresholds, band, deadline_met, decide, figures, tier_deadlines

T0 = 1_800_000_000.0


@pytest.mark.parametrize(
    ("alerts", "coverage", "color", "label"),
    [
        ([], 1.0, "GREEN", "GO"),
        ([("MEDIUM", False)], 1.0, "GREEN", "GO"),
        ([("INFO", False)], 1.0, "GREEN", "GO"),
        ([("HIGH", False)], 1.0, "YELLOW", "CONDITIONAL"),
        ([("CRITICAL", False)], 1.0, "RED", "NO-GO"),
        ([("HIGH", False), ("CRITICAL", False)], 1.0, "RED", "NO-GO"),
        ([("CRITICAL", True)], 1.0, "GREEN", "GO"),
        ([("CRITICAL", True), ("HIGH", False)], 1.0, "YELLOW", "CONDITIONAL"),
        ([], 0.999, "GREEN", "GO"),
        ([], 0.99, "YELLOW", "CONDITIONAL"),
        ([("MEDIUM", False)], 0.5, "YELLOW", "CONDITIONAL"),
        ([("CRITICAL", False)], 0.5, "RED", "NO-GO"),
    ],
)
def test_decide_colors(alert, alerts, coverage, color, label):
    """RED on any counted CRITICAL, YELLOW on HIGH or short coverage, else GREEN."""
    fired = [alert(severity=s, silenced_before_fire=q, subject=f"s{i}")
             for i, (s, q) in enumerate(alerts)]
    verdict = decide(fired, coverage, {})
    assert (verdict.color, verdict.label) == (color, label)


def test_escalated_alert_counts_at_its_new_tier(alert):
    """A HIGH escalated to CRITICAL makes the window RED."""
    verdict = decide([alert(severity="CRITICAL", escalated_from="HIGH")], 1.0, {})
    assert verdict.color == "RED"


def test_silenced_before_fire_is_listed_apart(alert):
    """An alert silenced before it fired is excluded and listed, not a reason."""
    verdict = decide([alert(severity="CRITICAL", silenced_before_fire=True)], 1.0, {})
    assert verdict.reasons == [] and verdict.excluded[0].code == "jobs.stale_claim"


def test_silenced_after_fire_still_counts(alert):
    """A silence set after the alert fired does not hide it."""
    verdict = decide([alert(severity="CRITICAL", silenced=True)], 1.0, {})
    assert verdict.color == "RED"


def test_reason_carries_evidence(alert):
    """Each reason names code, subject and message and carries the alert's evidence."""
    verdict = decide([alert(severity="CRITICAL", code="journal.corrupt_line",
                            subject="storage/events/credits.jsonl",
                            evidence={"line": 7, "offset": 120})], 1.0, {})
    reason = verdict.reasons[0]
    assert reason.code == "journal.corrupt_line" and reason.evidence["line"] == 7


def test_coverage_reason_has_its_figures():
    """Short coverage is a HIGH reason with the coverage as evidence."""
    verdict = decide([], 0.5, {})
    assert verdict.reasons[0].code == "window.coverage"
    assert verdict.reasons[0].evidence["coverage"] == 0.5


def test_reasons_are_worst_first(alert):
    """CRITICAL reasons come before HIGH ones."""
    verdict = decide([alert(severity="HIGH", subject="a"),
                      alert(severity="CRITICAL", subject="b")], 1.0, {})
    assert [r.severity for r in verdict.reasons] == ["CRITICAL", "HIGH"]


@pytest.mark.parametrize("bad", [None, "x", 12, {"severity": None}, {}])
def test_bad_alert_records_never_crash(bad):
    """Garbage in a stored history is skipped or counted as HIGH where it is read (the typed
    edge), never an exception."""
    verdict = decide(episodes([bad]), 1.0, {})
    assert verdict.color in ("GREEN", "YELLOW")


@pytest.mark.parametrize("coverage", [float("nan"), -1, 2, "1.0", None])
def test_bad_coverage_counts_as_uncovered(coverage):
    """A coverage that is not a number in 0..1 is treated as no coverage."""
    assert decide([], coverage, {}).color == "YELLOW"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "high", "critical", "red_at", "expected"),
    [
        # lock timeouts < 1 % / 1-5 % / > 5 %
        (0.0099, 0.01, 0.05, False, "green"), (0.01, 0.01, 0.05, False, "yellow"),
        (0.05, 0.01, 0.05, False, "yellow"), (0.0501, 0.01, 0.05, False, "red"),
        # failed notifications < 0.1 % / 0.1-1 % / > 1 %
        (0.0009, 0.001, 0.01, False, "green"), (0.005, 0.001, 0.01, False, "yellow"),
        (0.02, 0.001, 0.01, False, "red"),
        # p95 < 500 / 500-1000 / > 1000 ms
        (499, 500, 1000, False, "green"), (750, 500, 1000, False, "yellow"),
        (1001, 500, 1000, False, "red"),
        # memory trend < 0.1 / 0.1-1.0 / > 1.0 MB/min
        (0.05, 0.1, 1.0, False, "green"), (0.5, 0.1, 1.0, False, "yellow"),
        (1.5, 0.1, 1.0, False, "red"),
        # stale claims 0 / 1-4 / >= 5
        (0, 1, 5, True, "green"), (4, 1, 5, True, "yellow"), (5, 1, 5, True, "red"),
        (None, 1, 5, True, "unknown"),
    ],
)
def test_bands(value, high, critical, red_at, expected):
    """Each SPEC §5 threshold grades its figure green / yellow / red."""
    assert band(value, high, critical, red_at=red_at) == expected


def test_figures_grade_the_window(alert):
    """figures() reads the metrics and counts distinct stale claims."""
    metrics = {"locks": {"rate": 0.06}, "jobs": {"failed_rate": 0.0,
               "latency_ms": {"p95": 700}},
               "processes": {"a": {"rss_slope_mb_min": 0.2}, "b": {"rss_slope_mb_min": "x"}}}
    stale = [alert(subject=f"c{i}") for i in range(5)]
    got = {f.key: f.band for f in figures(metrics, stale, Thresholds())}
    assert got == {"lock_timeout_rate": "red", "failed_notification_rate": "green",
                   "job_latency_p95_ms": "yellow", "memory_growth_mb_min": "yellow",
                   "stale_claims": "red"}


def _at(s: float) -> str:
    return iso(T0 + s)


@pytest.mark.parametrize(
    ("tier", "resolved_after_s", "acked", "scale", "expected"),
    [
        ("HIGH", 3000, False, 1, True), ("HIGH", 3700, False, 1, False),
        ("HIGH", 4, False, 864, True), ("HIGH", 5, False, 864, False),
        ("MEDIUM", 4 * 3600, False, 1, True), ("MEDIUM", 4 * 3600 + 1, False, 1, False),
        ("HIGH", None, False, 1, None), ("CRITICAL", None, True, 1, True),
        ("CRITICAL", 99999, False, 1, True), ("CRITICAL", None, False, 1, None),
    ],
)
def test_deadline_met(alert, tier, resolved_after_s, acked, scale, expected):
    """HIGH within 1 h, MEDIUM within 4 h (nominal); CRITICAL when acked or resolved."""
    resolved = None if resolved_after_s is None else _at(resolved_after_s)
    record = alert(severity=tier, first_seen=_at(0), resolved_at=resolved, acked=acked)
    assert deadline_met(record, tier, scale) is expected


def test_tier_deadlines_count_per_original_tier(alert):
    """An escalated alert is measured against the tier it fired at; events apart."""
    rows = tier_deadlines([
        alert(severity="CRITICAL", escalated_from="HIGH", first_seen=_at(0)),
        alert(severity="HIGH", first_seen=_at(0), resolved_at=_at(60)),
        alert(severity="MEDIUM", kind="event"),
    ], time_scale=1)
    assert rows["HIGH"] == {"fired": 2, "events": 0, "resolved_within_deadline": 1,
                            "late": 0, "open": 1}
    assert rows["MEDIUM"]["events"] == 1 and rows["CRITICAL"]["fired"] == 0


def test_thresholds_from_config():
    """Thresholds take the config's [thresholds] values."""
    from daemon.config import ThresholdsCfg

    th = Thresholds.from_config(ThresholdsCfg(lock_timeout_high=0.02))
    assert th.lock_timeout_high == 0.02 and th.latency_p95_high_ms == 500.0


def test_thresholds_are_the_config_model_plus_coverage():
    """One source of names and defaults: the verdict's thresholds are `ThresholdsCfg`'s fields
    with the same defaults, plus `coverage_min`; bad values are refused as in the config."""
    from pydantic import ValidationError

    from daemon.config import ThresholdsCfg

    cfg, th = ThresholdsCfg(), Thresholds()
    assert set(Thresholds.model_fields) - set(ThresholdsCfg.model_fields) == {"coverage_min"}
    assert all(getattr(th, n) == getattr(cfg, n) for n in ThresholdsCfg.model_fields)
    with pytest.raises(ValidationError):
        Thresholds(environment_yellow_share=2)


def test_exit_codes(alert):
    """GREEN 0, YELLOW 1, RED 2."""
    codes = [decide(f, 1.0, {}).exit_code for f in
             ([], [alert(severity="HIGH")], [alert(severity="CRITICAL")])]
    assert codes == [0, 1, 2]


def test_verdict_json_keeps_its_fields(alert):
    """to_dict() (final.json's `verdict`) has the same fields as ever, from the typed parts."""
    reason_keys = {"severity", "code", "subject", "message", "first_seen", "resolved_at",
                   "escalated_from", "evidence", "runbook"}
    doc = decide([alert(severity="CRITICAL"), alert(severity="HIGH", subject="q",
                                                    silenced_before_fire=True)], 0.5, {},
                 host_load=HostShare(host="box", saturated_share=0.5, sustained_share=0.5,
                                     saturated_by={"cpu": 0.5})).to_dict()
    assert set(doc) == {"color", "label", "reasons", "excluded", "tiers", "figures",
                        "coverage", "environment"}
    assert [set(r) for r in doc["reasons"]] == [reason_keys] * 3
    assert set(doc["excluded"][0]) == reason_keys - {"evidence", "runbook"}
    assert set(doc["environment"]) == {"host", "saturated_share", "sustained_share",
                                       "saturated_by", "saturated_above_percent",
                                       "yellow_share", "yellow", "alerts"}
    assert set(doc["figures"][0]) == {"key", "label", "value", "unit", "band"}
