"""The fault plan as data: when each fault happens, and what burnin must report for it.

`at` is a fraction of the window. Durations in `params` ending in `_s` are nominal (window)
seconds; `min_real_s` is a floor in real seconds so that a fault lasts long enough for burnin's
checks to see it at any time scale; `down_real_s` is how long a crashed worker stays dead.
`EXPECTED` maps each fault to the findings (SPEC §3 code and severity) it must produce, and how
long after the injection (nominal seconds) burnin has to report it: the cadence of the check
that sees it (twice, for debounced codes), plus any age limit, plus the tier's deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from daemon.model import Severity

CRIT, HIGH = Severity.CRITICAL, Severity.HIGH


@dataclass(frozen=True)
class Fault:
    at: float
    name: str
    params: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Expect:
    code: str
    severity: Severity
    within_s: float  # nominal seconds from injection to the first alert

    def deadline_real_s(self, scale: float, floor_s: float = 5.0) -> float:
        """The detection deadline in real seconds at `scale` (never below `floor_s`)."""
        return max(self.within_s / scale, floor_s)


SCRIPTED: tuple[Fault, ...] = (
    Fault(0.06, "duplicate_result"),
    Fault(0.12, "corrupt_journal_line"),
    Fault(0.18, "duplicate_idempotency_key"),
    Fault(0.24, "negative_balance", {"hold_s": 3600, "min_real_s": 4}),
    Fault(0.30, "snapshot_drift", {"hold_s": 3600, "min_real_s": 4, "amount": 7.5}),
    Fault(0.36, "torn_state_file", {"hold_s": 1800, "min_real_s": 3}),
    Fault(0.42, "duplicate_transition_id"),
    Fault(0.48, "lock_timeout_burst", {"fraction": 0.10, "min_lines": 5}),
    Fault(0.55, "memory_growth",
          {"hold_s": 6 * 3600, "min_real_s": 10, "mb_per_real_min": 60, "max_mb": 120}),
    Fault(0.72, "stale_claim", {"down_real_s": 1}),
    Fault(0.82, "crash_restart", {"down_real_s": 4}),
)

EXPECTED: dict[str, tuple[Expect, ...]] = {
    "duplicate_result": (Expect("jobs.duplicate_processing", CRIT, 600),),
    "corrupt_journal_line": (Expect("journal.corrupt_line", CRIT, 1200),),
    "duplicate_idempotency_key": (Expect("journal.duplicate_key", CRIT, 1200),),
    "negative_balance": (Expect("ledger.negative_balance", CRIT, 1200),),
    "snapshot_drift": (Expect("ledger.drift", CRIT, 1200),),
    "torn_state_file": (Expect("state.corrupt", CRIT, 600),),
    "duplicate_transition_id": (Expect("transitions.duplicate_id", CRIT, 7200),),
    "lock_timeout_burst": (Expect("locks.timeout_rate", CRIT, 600),),
    "memory_growth": (Expect("process.memory_growth", CRIT, 3 * 3600),),
    "stale_claim": (Expect("jobs.stale_claim", HIGH, 1800),
                    Expect("process.restarted", HIGH, 600)),
    "crash_restart": (Expect("process.down", CRIT, 600),
                      Expect("process.restarted", HIGH, 600)),
}

PLANS: dict[str, tuple[Fault, ...]] = {"scripted": SCRIPTED, "none": ()}


def plan(name: str) -> tuple[Fault, ...]:
    """The fault plan called `name`; ValueError names the known plans."""
    try:
        return PLANS[name]
    except KeyError:
        raise ValueError(f"unknown fault plan {name!r} (known: {', '.join(PLANS)})") from None


def expected(faults: tuple[Fault, ...]) -> list[tuple[Fault, Expect]]:
    """Every finding the plan must produce, in plan order."""
    return [(f, e) for f in faults for e in EXPECTED[f.name]]


def hold_real_s(fault: Fault, scale: float) -> float:
    """How long (real seconds) a lasting fault stays in place at `scale`."""
    return max(fault.params.get("hold_s", 0.0) / scale, fault.params.get("min_real_s", 0.0))


class Crash(Exception):
    """Raised by a fault that kills the worker; the supervisor restarts it after `down_s`."""

    def __init__(self, down_s: float) -> None:
        super().__init__(f"simulated crash, down {down_s}s")
        self.down_s = down_s
