"""The pure decision of SPEC §4, as tables."""

from __future__ import annotations

import pytest

from daemon.alerts import decide
from daemon.alerts.state import Policy, Silence, fingerprint
from daemon.model import Severity, finding

P = Policy.scaled(1.0)
T0 = 1_000_000.0


def stale(subject: str = "a.claimed"):
    return finding("jobs.stale_claim", subject, "claim is stale")


def reasons(notices):
    return [n.reason for n in notices]


def run(steps, rule="r"):
    """Apply (t, findings | None-for-tick) steps; return every notice reason in order."""
    states, out = {}, []
    for t, fs in steps:
        if fs is None:
            states, ns = decide.tick(states, T0 + t, P)
        else:
            states, ns = decide.observe(states, rule, fs, T0 + t, P)
        out += reasons(ns)
    return states, out


@pytest.mark.parametrize(("steps", "expected"), [
    ([(0, [stale()])], ["first"]),
    ([(0, [stale()]), (60, [stale()])], ["first"]),
    ([(0, [stale()]), (60, [])], ["first", "resolved"]),
    ([(0, [stale()]), (3599, None)], ["first"]),
    ([(0, [stale()]), (1000, None), (2000, None)], ["first"]),
    ([(0, [])], []),
], ids=["first", "dedup", "resolved", "not-yet-escalated", "no-repeat-before-due", "none"])
def test_condition_table(steps, expected):
    """Conditions: first once, deduplicated while firing, one resolved."""
    assert run(steps)[1] == expected


def test_high_escalates_to_critical_after_one_hour():
    """HIGH still firing after 1 h is escalated to CRITICAL, with escalated_from HIGH."""
    states, out = run([(0, [stale()]), (3600, None)])
    st = states[fingerprint("jobs.stale_claim", "a.claimed")]
    assert out == ["first", "escalated"]
    assert (st.severity, st.escalated_from) == (Severity.CRITICAL, "HIGH")


def test_critical_repeats_every_30_minutes():
    """CRITICAL repeats every 30 min while firing."""
    f = finding("process.down", "worker", "down")
    _, out = run([(0, [f]), (1799, None), (1800, None), (3599, None), (3600, None)])
    assert out == ["first", "repeat", "repeat"]


def test_medium_escalates_after_four_hours_then_high_repeats():
    """MEDIUM escalates to HIGH after 4 h (no MEDIUM repeat is due before that)."""
    f = finding("jobs.pending_too_long", "j1", "pending")
    _, out = run([(0, [f]), (4 * 3600, None)])
    assert out == ["first", "escalated"]


def test_high_repeats_hourly_when_acked_never():
    """An acknowledged alert neither repeats nor escalates."""
    states, _ = decide.observe({}, "r", [stale()], T0, P)
    fp = fingerprint("jobs.stale_claim", "a.claimed")
    states[fp] = decide.ack(states[fp], None)
    _, ns = decide.tick(states, T0 + 5 * 3600, P)
    assert ns == []


def test_ack_expires_and_repeats_resume():
    """After an ack's expiry the alert escalates again."""
    states, _ = decide.observe({}, "r", [stale()], T0, P)
    fp = fingerprint("jobs.stale_claim", "a.claimed")
    states[fp] = decide.ack(states[fp], T0 + 600)
    _, ns = decide.tick(states, T0 + 3600, P)
    assert reasons(ns) == ["escalated"]


def test_sampled_condition_needs_two_runs():
    """A sampled code (host.cpu_high) fires on the second consecutive run only."""
    f = finding("host.cpu_high", "host", "cpu 90%")
    _, out1 = run([(0, [f])])
    _, out2 = run([(0, [f]), (60, [f])])
    _, out3 = run([(0, [f]), (60, []), (120, [f])])
    assert (out1, out2, out3) == ([], ["first"], [])


def test_event_notified_once():
    """The same event reported again is not notified again; a new one is."""
    e1 = finding("journal.corrupt_line", "credits.jsonl", "bad", {"line": 3})
    e2 = finding("journal.corrupt_line", "credits.jsonl", "bad", {"line": 9})
    _, out = run([(0, [e1]), (60, [e1]), (120, [e1, e2]), (9999, None)])
    assert out == ["first", "first"]


def test_event_never_resolves():
    """An event that is not reported again does not send a resolved notice."""
    e1 = finding("process.restarted", "w", "pid changed")
    _, out = run([(0, [e1]), (60, [])])
    assert out == ["first"]


def test_rule_only_resolves_its_own():
    """A rule's run does not resolve conditions raised by another rule."""
    states, _ = decide.observe({}, "a", [stale()], T0, P)
    _, ns = decide.observe(states, "b", [], T0 + 1, P)
    assert ns == []


def test_flapping_reported_once():
    """Fire/resolve more than 4 times in an hour gives one flapping notice, then silence."""
    steps = []
    for i in range(8):
        steps += [(i * 100, [stale()]), (i * 100 + 50, [])]
    _, out = run(steps)
    assert out == ["first", "resolved"] * 4 + ["flapping"]


def test_flapping_settles_with_resolved():
    """A flapping alert that stays resolved for an hour sends its resolved notice."""
    steps = []
    for i in range(6):
        steps += [(i * 100, [stale()]), (i * 100 + 50, [])]
    steps.append((550 + 3600, None))
    _, out = run(steps)
    assert out[-2:] == ["flapping", "resolved"]


def test_rule_severity_rise_is_escalation():
    """A condition whose rule raises its severity (latency HIGH -> CRITICAL) escalates."""
    hi = finding("jobs.latency", "p95", "600ms")
    crit = finding("jobs.latency", "p95", "1200ms", severity=Severity.CRITICAL)
    _, out = run([(0, [hi]), (60, [hi]), (120, [crit])])
    assert out == ["first", "escalated"]


def test_silence_marks_firing_alert():
    """A matching silence marks the alert silenced (and silenced before it fired)."""
    sil = Silence("s1", "jobs.stale_claim", None, T0 + 100, "chaos", T0 - 1)
    _, ns = decide.observe({}, "r", [stale()], T0, P, (sil,))
    assert ns[0].state.silenced and ns[0].state.silenced_before_fire


def test_expired_silence_does_not_match():
    """A silence past its end matches nothing."""
    sil = Silence("s1", None, "a.claimed", T0 - 1, "old", T0 - 100)
    _, ns = decide.observe({}, "r", [stale()], T0, P, (sil,))
    assert not ns[0].state.silenced


def test_durations_scale_with_time_scale():
    """At time scale 3600 a HIGH escalates after one real second."""
    p = Policy.scaled(3600.0)
    states, _ = decide.observe({}, "r", [stale()], T0, p)
    _, ns = decide.tick(states, T0 + 1.0, p)
    assert reasons(ns) == ["escalated"]


def test_resolved_state_forgotten_after_flap_window():
    """A resolved, settled alert is dropped from the state after an hour."""
    states, _ = run([(0, [stale()]), (10, []), (10 + 3600, None)])
    assert states == {}


def test_condition_reported_by_two_rules_is_owned_by_the_last_reporter():
    """Integrity reporting a position condition once does not resolve it an hour later."""
    neg = finding("ledger.negative_balance", "agent-1", "below zero")
    states, out = {}, []
    for rule, fs in (("integrity", [neg]), ("position", [neg]), ("integrity", [])):
        states, ns = decide.observe(states, rule, fs, T0, P)
        out += reasons(ns)
    assert out == ["first"]
    states, ns = decide.observe(states, "position", [], T0 + 1, P)
    assert reasons(ns) == ["resolved"]
