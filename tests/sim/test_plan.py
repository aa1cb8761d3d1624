"""The fault plan is data: complete, ordered, and mapped to SPEC codes."""

from __future__ import annotations

import pytest

from daemon.catalog import CATALOG
from daemon.model import Severity
from daemon.sim.faults import EXPECTED, PLANS, SCRIPTED, Expect, Fault, expected, hold_real_s, plan
from daemon.sim.inject import INJECTORS

ISSUE_FAULTS = {"stale_claim", "duplicate_result", "corrupt_journal_line",
                "duplicate_idempotency_key", "negative_balance", "snapshot_drift",
                "torn_state_file", "duplicate_transition_id", "lock_timeout_burst",
                "crash_restart", "memory_growth"}


def test_scripted_plan_covers_every_fault_of_the_issue() -> None:
    """Each fault named in issue 8 is in the scripted plan once."""
    names = [f.name for f in SCRIPTED]
    assert sorted(names) == sorted(ISSUE_FAULTS)


def test_every_fault_has_an_injector_and_expectations() -> None:
    """The plan, the injectors and the expectation table name the same faults."""
    assert set(INJECTORS) == set(EXPECTED) == ISSUE_FAULTS


def test_expected_codes_exist_in_the_catalog() -> None:
    """Every expected code is a SPEC code."""
    for _, exp in expected(SCRIPTED):
        assert exp.code in CATALOG


def test_expected_severity_is_at_least_the_catalog_default() -> None:
    """Severities are the catalog's or its higher band (rates, memory)."""
    for _, exp in expected(SCRIPTED):
        assert exp.severity >= CATALOG[exp.code].severity


def test_faults_are_ordered_inside_the_window() -> None:
    """Fault times increase and stay between 0 and 90 % of the window."""
    times = [f.at for f in SCRIPTED]
    assert times == sorted(times) and times[0] > 0 and times[-1] <= 0.9


def test_none_plan_is_empty() -> None:
    """--faults none injects nothing."""
    assert plan("none") == () and set(PLANS) == {"scripted", "none"}


def test_unknown_plan_is_a_clear_error() -> None:
    """An unknown plan name raises ValueError naming the known plans."""
    with pytest.raises(ValueError, match="scripted"):
        plan("chaos")


def test_plan_makes_the_verdict_red() -> None:
    """At least one expectation is CRITICAL, so the verdict must be RED."""
    assert max(e.severity for _, e in expected(SCRIPTED)) == Severity.CRITICAL


def test_deadline_has_a_real_floor() -> None:
    """At a huge time scale the real deadline does not fall below the floor."""
    exp = Expect("state.corrupt", Severity.CRITICAL, 600)
    assert exp.deadline_real_s(1e6, floor_s=5) == 5 and exp.deadline_real_s(1, floor_s=5) == 600


def test_hold_uses_the_longer_of_nominal_and_real_floor() -> None:
    """A lasting fault holds max(hold_s / scale, min_real_s) real seconds."""
    fault = Fault(0.5, "snapshot_drift", {"hold_s": 3600, "min_real_s": 4})
    assert hold_real_s(fault, 864) == pytest.approx(4.1666, rel=1e-3)
    assert hold_real_s(fault, 100_000) == 4
