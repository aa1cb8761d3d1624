"""Issue 18 item 7: an alert storm is bounded — beyond `alerts.max_subjects_per_code` subjects
of a code, one aggregated alert ("… and N more") stands for the rest (SPEC §5)."""

from __future__ import annotations

import orjson
import pytest

from daemon.clock import FakeClock
from daemon.model import Finding, Kind, Severity, finding
from daemon.storm import AGGREGATE_SUBJECT, bound
from tests.alerts.support import log, make_cfg, running
from tests.channels.servers import HookServer, until

__all__ = ["log", "make_cfg"]  # fixtures


def pending(n: int, sev: Severity | None = None) -> Finding:
    return finding("jobs.pending_too_long", f"out/job-{n:06d}.job.json", "job waits", {"n": n},
                   severity=sev)


def subjects(found: list[Finding]) -> list[str]:
    return [f.subject for f in found]


@pytest.mark.parametrize(("count", "limit", "individual", "aggregated"), [
    (0, 3, 0, None), (3, 3, 3, None), (4, 3, 3, 1), (1000, 3, 3, 997), (5, 1, 1, 4)])
def test_bound_keeps_limit_subjects_and_aggregates_the_rest(
        count: int, limit: int, individual: int, aggregated: int | None) -> None:
    """Up to `limit` subjects pass; more become exactly one aggregate counting the rest."""
    out = bound([pending(n) for n in range(count)], limit)
    aggs = [f for f in out if f.subject == AGGREGATE_SUBJECT]
    assert len(out) - len(aggs) == individual
    assert [a.evidence["more"] for a in aggs] == ([aggregated] if aggregated else [])


def test_bound_is_per_code_and_keeps_the_worst_and_first_subjects() -> None:
    """Other codes are untouched; the most severe, then the first subjects stay individual;
    the aggregate carries the worst severity it stands for and a sample."""
    found = [pending(n) for n in range(10)] + [pending(99, Severity.CRITICAL)] + [
        finding("state.corrupt", "s.json", "torn")]
    out = bound(found, 3)
    assert subjects(out) == ["out/job-000099.job.json", "out/job-000000.job.json",
                             "out/job-000001.job.json", AGGREGATE_SUBJECT, "s.json"]
    agg = out[3]
    assert agg.severity is Severity.MEDIUM and agg.kind is Kind.CONDITION
    assert agg.evidence["more"] == 8 and agg.evidence["sample"][0] == "out/job-000002.job.json"
    assert "… and 8 more jobs.pending_too_long subjects" in agg.message


def test_same_subjects_stay_individual_from_look_to_look() -> None:
    """The order does not depend on the order the rule listed them (no churn)."""
    a = bound([pending(n) for n in range(50)], 5)
    b = bound([pending(n) for n in reversed(range(60))], 5)
    assert subjects(a)[:5] == subjects(b)[:5]


@pytest.mark.anyio
async def test_engine_notifies_a_storm_as_limit_plus_one_alerts(make_cfg, log) -> None:
    """10,000 subjects of one code reach the real alert log and webhook as 100 + 1 alerts; when
    the code drops under the limit the aggregate resolves."""
    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "ops", "min_severity": "MEDIUM"}],
                        "group_wait": "0s"})
        clock = FakeClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [pending(n) for n in range(10_000)], clock.time())
            await until(lambda: eng.pending() == 0 and srv.requests, timeout_s=30)
            assert len(eng.open_alerts()) == 101
            await eng.observe("jobs", [pending(n) for n in range(50)], clock.time())
            await eng.observe("jobs", [pending(n) for n in range(50)], clock.time())
            await until(lambda: eng.pending() == 0, timeout_s=30)
            assert len(eng.open_alerts()) == 50
        lines = [orjson.loads(x) for x in (cfg.log_dir / "alerts.jsonl").read_bytes()
                 .splitlines()]
    agg = [r for r in lines if r["subject"] == AGGREGATE_SUBJECT]
    assert [r["status"] for r in agg] == ["firing", "resolved"]
    assert agg[0]["evidence"]["more"] == 9_900
    assert len(lines) < 200
