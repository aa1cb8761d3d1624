"""Matching injected faults against burnin's alert log (table-tested, pure)."""

from __future__ import annotations

from typing import Any

import pytest

from daemon.clock import iso
from daemon.model import Severity
from daemon.sim.outcome import above_info, first_alert, outcomes

T0 = 1_800_000_000.0


def alert(code: str, severity: str, at: float, status: str = "firing") -> dict[str, Any]:
    return {"code": code, "severity": severity, "status": status, "first_seen": iso(at)}


@pytest.mark.parametrize(("alerts", "expected"), [
    ([alert("ledger.drift", "CRITICAL", T0 + 2)], T0 + 2),
    ([alert("ledger.drift", "HIGH", T0 + 2)], None),  # below the expected severity
    ([alert("ledger.drift", "CRITICAL", T0 - 10)], None),  # before the injection
    ([alert("ledger.drift", "CRITICAL", T0 + 2, "resolved")], None),
    ([alert("state.corrupt", "CRITICAL", T0 + 2)], None),  # another code
    ([alert("ledger.drift", "CRITICAL", T0 + 5), alert("ledger.drift", "CRITICAL", T0 + 3)],
     T0 + 3),
    ([{"code": "ledger.drift", "status": "firing", "severity": "bogus", "first_seen": "x"}],
     None),
])
def test_first_alert(alerts: list[dict[str, Any]], expected: float | None) -> None:
    """The earliest firing alert of the code, at or above the severity, after the injection."""
    seen = first_alert(alerts, "ledger.drift", Severity.CRITICAL, T0)
    assert seen == (pytest.approx(expected) if expected is not None else None)


def test_outcomes_measure_delay_against_the_deadline() -> None:
    """One row per expectation with its delay and whether it met its real deadline."""
    faults = [{"fault": "crash_restart", "at_epoch": T0,
               "expect": [{"code": "process.down", "severity": "CRITICAL", "within_s": 600},
                          {"code": "process.restarted", "severity": "HIGH", "within_s": 600}]}]
    alerts = [alert("process.down", "CRITICAL", T0 + 1), alert("process.restarted", "HIGH",
                                                                T0 + 30)]
    rows = outcomes(faults, alerts, scale=864.0, floor_s=5.0)
    assert [(r.code, r.in_time) for r in rows] == [("process.down", True),
                                                   ("process.restarted", False)]
    assert rows[1].detected and rows[1].delay_s == pytest.approx(30, abs=0.01)


def test_above_info_keeps_only_firing_alerts_worse_than_info() -> None:
    """INFO and resolved records do not count against a clean run."""
    alerts = [alert("a", "INFO", T0), alert("b", "MEDIUM", T0, "resolved"),
              alert("c", "MEDIUM", T0)]
    assert [a["code"] for a in above_info(alerts)] == ["c"]
