"""Grouping and routing of notices into messages."""

from __future__ import annotations

from daemon.alerts import router
from daemon.alerts.retry import backoff
from daemon.model import Severity


def rec(code="jobs.stale_claim", sev="HIGH", silenced=False, subject="s"):
    return {"code": code, "severity": sev, "silenced": silenced, "subject": subject}


def test_urgent_group_due_at_once():
    """CRITICAL/HIGH records are due immediately."""
    groups, rest = router.flush(router.hold([], [rec()], 100.0, 30.0), 100.0)
    assert list(groups) == ["jobs.stale_claim"] and rest == []


def test_medium_waits_group_wait():
    """MEDIUM records wait `group_wait` and then go out as one digest."""
    held = router.hold([], [rec(sev="MEDIUM", subject=str(i)) for i in range(3)], 100.0, 30.0)
    early, _ = router.flush(held, 129.0)
    late, rest = router.flush(held, 130.0)
    assert early == {} and len(late["jobs.stale_claim"]) == 3 and rest == []


def test_thousand_findings_one_group_per_code():
    """1,000 records of two codes make two groups."""
    recs = [rec(code=f"c{i % 2}", subject=str(i)) for i in range(1000)]
    groups, _ = router.flush(router.hold([], recs, 0.0, 30.0), 0.0)
    assert sorted(len(v) for v in groups.values()) == [500, 500]


def test_route_filters_by_min_severity_and_silence():
    """A channel gets unsilenced records at or above its min severity; the log gets all."""
    recs = [rec(sev="MEDIUM"), rec(sev="CRITICAL"), rec(sev="CRITICAL", silenced=True),
            rec(sev="INFO")]
    routes = [router.Route("log", Severity.INFO, always=True),
              router.Route("mail", Severity.HIGH)]
    out = router.route(recs, routes)
    assert len(out["log"]) == 4 and out["mail"] == [recs[1]]


def test_backoff_doubles_with_jitter_and_cap():
    """Backoff doubles per attempt, jitter spans 50-100 %, the cap holds."""
    assert [backoff(a, 1.0, 300.0, 0.0) for a in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(3, 1.0, 300.0, 0.999999) < 8.0
    assert backoff(20, 1.0, 300.0, 0.0) == 150.0


def test_backoff_honours_retry_after():
    """Retry-After longer than the backoff wins."""
    assert backoff(0, 1.0, 300.0, 0.0, retry_after_s=120.0) == 120.0
