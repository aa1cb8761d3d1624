"""Did burnin catch every injected fault? Pure matching of the fault log against the alert log.

An expectation is met by a firing alert of its code, at its severity or above, first seen at or
after the injection (less a small clock slack). Used by the demo's summary and the e2e tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from daemon.clock import parse_timestamp
from daemon.model import Severity
from daemon.sim.faults import Expect

SLACK_S = 0.5


@dataclass(frozen=True)
class Outcome:
    fault: str
    code: str
    severity: str
    injected_at: float
    detected_at: float | None
    deadline_s: float  # real seconds

    @property
    def detected(self) -> bool:
        return self.detected_at is not None

    @property
    def delay_s(self) -> float | None:
        return None if self.detected_at is None else self.detected_at - self.injected_at

    @property
    def in_time(self) -> bool:
        return self.delay_s is not None and self.delay_s <= self.deadline_s


def _severity(value: Any) -> Severity | None:
    try:
        return Severity.parse(str(value))
    except KeyError:
        return None


def first_alert(alerts: Iterable[Mapping[str, Any]], code: str, severity: Severity,
                after: float) -> float | None:
    """When the first firing alert of `code` at `severity` or above was seen after `after`."""
    times = []
    for alert in alerts:
        sev = _severity(alert.get("severity"))
        seen = parse_timestamp(alert.get("first_seen"))
        if (alert.get("status") == "firing" and alert.get("code") == code and sev is not None
                and sev >= severity and seen is not None and seen >= after - SLACK_S):
            times.append(seen)
    return min(times, default=None)


def outcomes(faults: Iterable[Mapping[str, Any]], alerts: list[Mapping[str, Any]],
             scale: float, floor_s: float = 5.0) -> list[Outcome]:
    """One outcome per expectation of every injected fault (records of the fault log)."""
    rows = []
    for record in faults:
        injected = float(record.get("at_epoch", 0.0))
        for exp in record.get("expect", []):
            expect = Expect(exp["code"], Severity.parse(exp["severity"]), exp["within_s"])
            seen = first_alert(alerts, expect.code, expect.severity, injected)
            rows.append(Outcome(str(record.get("fault")), expect.code, expect.severity.name,
                                injected, seen, expect.deadline_real_s(scale, floor_s)))
    return rows


def above_info(alerts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Firing alerts worse than INFO (a clean run must have none)."""
    return [a for a in alerts if a.get("status") == "firing"
            and (_severity(a.get("severity")) or Severity.INFO) > Severity.INFO]
