"""SPEC §4 "Compression must never…" and "Environmental conditions", as tables.

A condition on a real measurement is judged on real samples (`Policy.sample_floor_s`,
`Policy.escalate_floor_s`); an environmental code never reaches CRITICAL.
"""

from __future__ import annotations

import pytest

from daemon.alerts import decide
from daemon.alerts.state import Policy, fingerprint
from daemon.catalog import CATALOG
from daemon.model import Severity, finding

T0 = 1_000_000.0
MED, HIGH, CRIT = Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL


def policy(scale: float = 864.0, floor: float = 30.0, esc_floor: float = 600.0) -> Policy:
    return Policy.scaled(scale, sample_floor_s=floor, escalate_floor_s=esc_floor)


def cpu(sev: Severity = MED):
    return finding("host.cpu_high", "host", "host CPU busy", {"percent": 90.0}, severity=sev)


def play(steps, pol: Policy, rule: str = "host"):
    """Steps (t, findings or None for a tick); returns (states, [(t, reason, severity)])."""
    states, out = {}, []
    for t, fs in steps:
        if fs is None:
            states, ns = decide.tick(states, T0 + t, pol)
        else:
            states, ns = decide.observe(states, rule, fs, T0 + t, pol)
        out += [(t, n.reason, n.state.severity) for n in ns]
    return states, out


def every(step: float, until: float, make, start: float = 0.0):
    """One observation (and one tick) every `step` real seconds from `start` to `until`."""
    out, t = [], start
    while t <= until + 1e-9:
        out += [(t, [make()] if callable(make) else make), (t, None)]
        t = round(t + step, 6)
    return out


def test_catalog_marks_real_measurements_and_environment():
    """The catalog knows which codes are real measurements and which are environmental."""
    real = {c for c, i in CATALOG.items() if i.real}
    assert real == {"host.cpu_high", "host.memory_high", "host.disk_high", "process.cpu_high",
                    "process.idle_cpu", "daemon.loop_lag"}
    env = {c for c, i in CATALOG.items() if i.environmental}
    assert {"host.cpu_high", "daemon.delivery_failing", "daemon.runtime_unwritable",
            "daemon.check_overrun"} <= env
    assert "process.cpu_high" not in env and "jobs.stale_claim" not in env
    assert CATALOG["daemon.runtime_unwritable"].sampled


@pytest.mark.parametrize(("held_s", "step", "fires"), [
    (10.0, 0.25, False),   # a 10 s busy blip at 864x (40 runs): not a fault
    (29.75, 0.25, False),  # just under the floor
    (30.0, 0.25, True),    # held the floor
    (60.0, 60.0, True),    # 1x: two runs a minute apart are past the floor
    (0.0, 0.25, False),    # one run only
], ids=["blip", "under-floor", "floor", "1x-two-runs", "one-run"])
def test_real_measurement_fires_after_runs_and_real_floor(held_s, step, fires):
    """Fires only after its debounce runs AND `sample_for_min` real seconds."""
    scale = 1.0 if step == 60.0 else 864.0
    _, out = play([*every(step, held_s, cpu), (held_s + step, [])], policy(scale))
    assert ("first" in [r for _, r, _ in out]) is fires


def test_blip_interrupts_the_hold():
    """The hold must be continuous: a clean run starts it again."""
    steps = [*every(0.25, 20, cpu), (20.25, []), *every(0.25, 60, cpu, start=20.5)]
    _, out = play(steps, policy())
    assert [(t, r) for t, r, _ in out] == [(50.5, "first")]


def test_non_real_sampled_code_keeps_two_run_debounce():
    """`locks.timeout_rate` (sampled, not a real measurement) fires on its second run."""
    f = finding("locks.timeout_rate", "logs", "lock timeouts")
    _, out = play([(0, [f]), (0.25, [f])], policy())
    assert [r for _, r, _ in out] == ["first"]


def test_fires_at_the_tier_it_held():
    """A single HIGH sample inside a MEDIUM hold fires MEDIUM, not HIGH."""
    steps = [*every(0.25, 29.75, cpu), (30.0, [cpu(HIGH)])]
    _, out = play(steps, policy())
    assert out == [(30.0, "first", MED)]


@pytest.mark.parametrize(("high_s", "rises"), [(10.0, False), (31.0, True)],
                         ids=["short-spike", "held"])
def test_rise_to_high_needs_the_floor_too(high_s, rises):
    """A firing MEDIUM rises to HIGH only after HIGH held for the floor."""
    steps = every(0.25, 30, cpu) + every(0.25, 30 + high_s, lambda: cpu(HIGH), start=30.25)
    steps += every(0.25, 100, cpu, start=30.5 + high_s)
    _, out = play(steps, policy())
    assert ("escalated" in [r for _, r, _ in out]) is rises


@pytest.mark.parametrize(("scale", "expect_s"), [
    (864.0, 630.0),       # 4 h scaled = 16.7 s < 600 s real floor: floor wins (30 + 600)
    (1.0, 30.0 + 4 * 3600),  # 1x: the tier period is longer
], ids=["864x-floor", "1x-period"])
def test_real_escalation_needs_period_and_real_floor(scale, expect_s):
    """MEDIUM host CPU escalates to HIGH after max(4 h scaled, escalate floor)."""
    pol = policy(scale)
    states, _ = play(every(30.0, 30.0, cpu), pol)
    _, before = decide.tick(states, T0 + expect_s - 1, pol)
    st2, after = decide.tick(states, T0 + expect_s, pol)
    assert [n.reason for n in before] != ["escalated"]
    assert [n.reason for n in after] == ["escalated"]
    assert st2[fingerprint("host.cpu_high", "host")].severity is HIGH


def test_real_repeat_never_faster_than_floor():
    """At 8640x a MEDIUM repeat (4 h = 1.7 s) waits for the 30 s real floor."""
    pol = policy(8640.0)
    states, _ = play(every(0.25, 30, cpu), pol)
    _, early = decide.tick(states, T0 + 59.9, pol)
    _, due = decide.tick(states, T0 + 60.0, pol)
    assert [n.reason for n in early] == [] and [n.reason for n in due] == ["repeat"]


@pytest.mark.parametrize(("code", "sev"), [
    ("host.cpu_high", HIGH), ("daemon.delivery_failing", HIGH),
    ("daemon.runtime_unwritable", HIGH), ("daemon.endpoint_disabled", HIGH),
])
def test_environmental_never_escalates_to_critical(code, sev):
    """A HIGH environmental condition stays HIGH, however long it fires; it still repeats."""
    pol = policy(1.0, floor=0.0, esc_floor=0.0)
    f = finding(code, "x", "environment", severity=sev)
    states, _ = play([(0, [f]), (60, [f])], pol)
    states, out = decide.tick(states, T0 + 10 * 3600, pol)
    assert [n.reason for n in out] == ["repeat"]
    assert all(s.severity is HIGH for s in states.values())


def test_environmental_critical_finding_is_capped():
    """A CRITICAL finding of an environmental code is recorded as HIGH."""
    f = finding("daemon.check_overrun", "health", "overrun", severity=CRIT)
    _states, ns = decide.observe({}, "supervisor", [f], T0, policy())
    assert [n.state.severity for n in ns] == [HIGH]


def test_system_under_test_still_escalates():
    """`jobs.stale_claim` (system under test) still escalates to CRITICAL in 1 h scaled."""
    pol = policy(864.0)
    f = finding("jobs.stale_claim", "a.claimed", "stale")
    states, _ = play([(0, [f])], pol)
    _, out = decide.tick(states, T0 + 3600 / 864 + 0.001, pol)
    assert [(n.reason, n.state.severity) for n in out] == [("escalated", CRIT)]
