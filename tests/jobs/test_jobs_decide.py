"""Pure decisions of the job checks, as tables."""

from __future__ import annotations

import pytest

from daemon.checks import jobs_decide as jd
from daemon.model import Severity
from daemon.sources.jobs_index import ClaimRec, JobEvent, PendingRec

NOW = 10_000.0


@pytest.mark.parametrize(("since", "pid_gone", "stale"), [
    (NOW - 301, False, True),
    (NOW - 300, False, False),
    (NOW - 1, False, False),
    (NOW - 1, True, True),
    (NOW + 50, False, False),  # claimed_at in the future (clock skew): not stale
])
def test_is_stale(since: float, pid_gone: bool, stale: bool) -> None:
    """Stale when older than the limit, or when its pid is gone."""
    rec = ClaimRec("j", since, 0, 5 if pid_gone else None, pid_gone)
    assert jd.is_stale(rec, NOW, 300.0) is stale


def test_next_deadline_is_earliest_crossing() -> None:
    """The timer wakes at the first claim or job crossing its limit, ignoring stale ones."""
    claims = [ClaimRec("a", NOW - 10, 0, None, False), ClaimRec("b", NOW - 400, 0, None, False)]
    pending = [PendingRec("p", NOW - 100, 0)]
    assert jd.next_deadline(claims, pending, NOW, 300.0, 150.0) == NOW + 50
    assert jd.next_deadline([], [], NOW, 300.0, 150.0) is None


@pytest.mark.parametrize(("p95_values", "count", "expected"), [
    ([100.0] * 25, 25, None),
    ([600.0] * 25, 25, Severity.HIGH),
    ([1200.0] * 25, 25, Severity.CRITICAL),
    ([1200.0] * 19, 19, None),  # too few samples
    ([500.0] * 25, 25, None),  # at the limit is not above it
])
def test_latency_finding(p95_values: list[float], count: int, expected: Severity | None) -> None:
    """jobs.latency by p95: > 500 ms HIGH, > 1000 ms CRITICAL, only with >= 20 samples."""
    stats = jd.latency_stats(p95_values)
    found = jd.latency_finding(stats, "in", 500.0, 1000.0, 20)
    assert (found[0].severity if found else None) == expected


def test_percentiles_nearest_rank() -> None:
    """p50/p95/p99 are nearest-rank over the samples."""
    stats = jd.latency_stats(float(i) for i in range(1, 101))
    assert (stats["p50"], stats["p95"], stats["p99"], stats["count"]) == (50, 95, 99, 100)
    assert jd.latency_stats([])["p95"] is None


@pytest.mark.parametrize(("failed", "results", "expected"), [
    (0, 1000, None), (1, 1000, None), (2, 1000, Severity.HIGH), (10, 1000, Severity.HIGH),
    (11, 1000, Severity.CRITICAL), (1, 0, Severity.CRITICAL), (0, 0, None),
])
def test_failed_finding(failed: int, results: int, expected: Severity | None) -> None:
    """failed/results > 0.1 % HIGH, > 1 % CRITICAL; failures with no results count fully."""
    found = jd.failed_finding(failed, results, "f", 0.001, 0.01)
    assert (found[0].severity if found else None) == expected


def test_duplicate_event_subject_is_job_id() -> None:
    """A duplicate names the job id as subject and carries job_id and the path."""
    f = jd.event_finding(JobEvent("jobs.duplicate_processing", "in/r2.result.json", "J", "x"))
    assert (f.subject, f.evidence["job_id"], f.evidence["path"]) == ("J", "J", "in/r2.result.json")
    assert f.severity is Severity.CRITICAL and f.kind == "event"


def test_unreadable_event_subject_is_path() -> None:
    """An unreadable file names its path as subject."""
    f = jd.event_finding(JobEvent("jobs.unreadable_file", "out/x.job.json", "", "unparsable"))
    assert f.subject == "out/x.job.json" and f.severity is Severity.MEDIUM
