"""What a fleet view needs from each burnin's exposition: labelled by system and host."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from daemon.service.metrics import render
from tests.service.sample_status import sample_status
from tests.service.test_metrics import _promtool


def _fleet_status(**extra: Any) -> dict[str, Any]:
    s = sample_status()
    s["window"]["coverage"] = 0.75
    return {**s, "system": "payments", "host": "node-b", **extra}


def _series(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(x.name, tuple(sorted(x.labels.items()))): x.value
            for fam in text_string_to_metric_families(body.decode()) for x in fam.samples}


ID = (("host", "node-b"), ("system", "payments"))


def test_every_series_carries_system_and_host() -> None:
    """Each sample is labelled by the document's system and host."""
    body = render(_fleet_status())
    series = _series(body)
    assert series, "no samples"
    for name, labels in series:
        assert dict(labels).get("host") == "node-b", name
        assert dict(labels).get("system") == "payments", name
    assert series[("burnin_verdict_code", ID)] == 1
    assert series[("burnin_alerts_open", (*ID[:1], ("severity", "HIGH"), ID[1]))] == 2
    assert series[("burnin_check_last_run_timestamp_seconds",
                   (("check", "health"), *ID))] == 1_768_298_370.0


def test_window_progress_and_coverage_are_ratios() -> None:
    """Progress is elapsed/duration, clamped to 0..1; coverage is the window's own figure."""
    series = _series(render(_fleet_status()))
    assert series[("burnin_window_progress_ratio", ID)] == 3600 / 259200
    assert series[("burnin_window_coverage_ratio", ID)] == 0.75
    over = _fleet_status()
    over["window"] = {**over["window"], "elapsed_s": 999_999}
    assert _series(render(over))[("burnin_window_progress_ratio", ID)] == 1.0
    broken = _fleet_status()
    broken["window"] = {**broken["window"], "duration_s": 0}
    assert not any(n == "burnin_window_progress_ratio" for n, _ in _series(render(broken)))


def test_fleet_exposition_is_promtool_clean() -> None:
    """promtool check metrics accepts the labelled exposition."""
    result = _promtool(render(_fleet_status()))
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_identity_no_empty_labels_are_added() -> None:
    """A document without system/host (or with odd types) gets no fleet labels."""
    for extra in ({"system": "", "host": None}, {"system": 3, "host": ["x"]}):
        series = _series(render({**sample_status(), **extra}))
        assert ("burnin_verdict_code", ()) in series
