"""The pure notification decision (STYLE.md §2): (previous states, findings, now) -> notices.

No I/O, no clock: every function takes `now` (real epoch seconds) and a `Policy` whose
durations are already scaled to real seconds. Each notice carries a named reason:
`first`, `repeat`, `resolved`, `escalated`, `flapping`.

SPEC §4's two guards against compression and a busy host live here: a condition on a real
measurement (catalog `real`) is judged on real samples (fires, rises, repeats and escalates
only after real floors), and an environmental code (`host.*`, `daemon.*`) never reaches
CRITICAL, neither by its finding nor by escalation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from daemon.alerts.state import AlertState, Policy, Silence, digest, fingerprint
from daemon.catalog import CATALOG
from daemon.model import Finding, Kind, Severity

States = dict[str, AlertState]
FOREVER = 1e18  # an ack without expiry lasts until the alert resolves


@dataclass(frozen=True, slots=True)
class Notice:
    reason: str
    state: AlertState


def is_silenced(code: str, subject: str, silences: Iterable[Silence], now: float) -> bool:
    return any(s.matches(code, subject, now) for s in silences)


def observe(prev: States, rule: str, findings: list[Finding], now: float, policy: Policy,
            silences: tuple[Silence, ...] = ()) -> tuple[States, list[Notice]]:
    """Apply one run of `rule`: new/continuing conditions, new events, resolutions."""
    states, notices = dict(prev), []
    seen: set[str] = set()
    for f in findings:
        fp = fingerprint(f.code, f.subject)
        seen.add(fp)
        st, notice = _one(states.get(fp), rule, f, fp, now, policy, silences)
        if st is not None:
            states[fp] = st
        if notice is not None:
            notices.append(notice)
    for fp, st in prev.items():
        if st.rule == rule and fp not in seen and st.kind is Kind.CONDITION:
            _gone(states, st, now, notices)
    return states, notices


def _one(st: AlertState | None, rule: str, f: Finding, fp: str, now: float, policy: Policy,
         silences: tuple[Silence, ...]) -> tuple[AlertState | None, Notice | None]:
    f = _capped(f)
    if f.kind is Kind.EVENT:
        return _event(st, rule, f, fp, now, policy, silences)
    if st is None or st.status == "resolved" or st.kind is Kind.EVENT:
        st = _new(st, rule, f, fp, now)
    elif st.status == "pending":
        # a real measurement fires at the tier it held throughout, anything else at its worst
        sev = min(st.severity, f.severity) if _real(f.code) else max(st.severity, f.severity)
        st = replace(st, rule=rule, seen=st.seen + 1, last_seen=now, message=f.message,
                     evidence=dict(f.evidence), severity=sev)
    else:
        return _continue(st, rule, f, now, policy)
    if _held(st.code, st.seen, now - st.first_seen, policy):
        return _fire(st, now, policy, silences)
    return st, None


def _needed(code: str, policy: Policy) -> int:
    info = CATALOG.get(code)
    return policy.debounce_runs if info is not None and info.sampled else 1


def _real(code: str) -> bool:
    info = CATALOG.get(code)
    return info is not None and info.real


def _environmental(code: str) -> bool:
    info = CATALOG.get(code)
    return info is not None and info.environmental


def _held(code: str, runs: int, held_s: float, policy: Policy) -> bool:
    """Seen on enough runs, and (a real measurement) for the real floor as well."""
    if runs < _needed(code, policy):
        return False
    return not _real(code) or held_s >= policy.sample_floor_s


def _capped(f: Finding) -> Finding:
    """An environmental finding is never CRITICAL (SPEC §4)."""
    if f.severity > Severity.HIGH and _environmental(f.code):
        return replace(f, severity=Severity.HIGH)
    return f


def _new(old: AlertState | None, rule: str, f: Finding, fp: str, now: float) -> AlertState:
    """A fresh occurrence; flap history and acks of an earlier episode carry over/clear."""
    return AlertState(
        fp=fp, rule=rule, code=f.code, subject=f.subject, severity=f.severity, kind=f.kind,
        message=f.message, evidence=dict(f.evidence), status="pending", first_seen=now,
        last_seen=now, fires=old.fires if old else (), flapping=old.flapping if old else False,
        last_change=old.last_change if old else now, fired=old.fired if old else False,
        resolved_at=old.resolved_at if old else None, digests=old.digests if old else (),
    )


def _fire(st: AlertState, now: float, policy: Policy,
          silences: tuple[Silence, ...]) -> tuple[AlertState, Notice | None]:
    fires = (*tuple(t for t in st.fires if now - t < policy.flap_window_s), now)
    silenced = is_silenced(st.code, st.subject, silences, now)
    st = replace(st, status="firing", fired=True, tier_since=now, resolved_at=None, fires=fires,
                 last_change=now, silenced=silenced, silenced_before_fire=silenced,
                 escalated_from=None, acked=False, acked_until=None)
    if len(fires) > policy.flap_max:
        if st.flapping:
            return st, None
        st = replace(st, flapping=True, last_notified=now)
        return st, Notice("flapping", st)
    if st.flapping:
        return st, None
    st = replace(st, last_notified=now)
    return st, Notice("first", st)


def _continue(st: AlertState, rule: str, f: Finding, now: float, policy: Policy
              ) -> tuple[AlertState, Notice | None]:
    """Still firing. The rule that reported it last owns it: only that rule's clean look
    resolves it (two rules of one source may report one condition). A real measurement rises
    a tier only after holding the higher level like a new condition."""
    st = replace(st, rule=rule, last_seen=now, message=f.message, evidence=dict(f.evidence))
    if f.severity <= st.severity:
        return replace(st, rise_since=None, rise_seen=0), None
    since = st.rise_since if st.rise_since is not None else now
    seen = st.rise_seen + 1
    if _real(f.code) and not _held(f.code, seen, now - since, policy):
        return replace(st, rise_since=since, rise_seen=seen), None
    st = replace(st, severity=f.severity, tier_since=now, last_notified=now,
                 escalated_from=st.escalated_from or st.severity.name, rise_since=None,
                 rise_seen=0)
    return st, Notice("escalated", st)


def _event(st: AlertState | None, rule: str, f: Finding, fp: str, now: float, policy: Policy,
           silences: tuple[Silence, ...]) -> tuple[AlertState | None, Notice | None]:
    """An event is notified once: the same occurrence reported again is only `last_seen`."""
    d = digest(f)
    if st is not None and d in st.digests:
        return replace(st, last_seen=now), None
    digests = ((st.digests if st else ()) + (d,))[-64:]
    silenced = is_silenced(f.code, f.subject, silences, now)
    new = AlertState(
        fp=fp, rule=rule, code=f.code, subject=f.subject, severity=f.severity, kind=f.kind,
        message=f.message, evidence=dict(f.evidence), status="firing", first_seen=now,
        last_seen=now, fired=True, tier_since=now, last_notified=now, last_change=now,
        silenced=silenced, silenced_before_fire=silenced, digests=digests,
    )
    return new, Notice("first", new)


def _gone(states: States, st: AlertState, now: float, notices: list[Notice]) -> None:
    """A condition the rule no longer sees: a pending one is dropped, a firing one resolves."""
    if st.status == "pending":
        if st.fired:
            states[st.fp] = replace(st, status="resolved", seen=0)
        else:
            del states[st.fp]
    elif st.status == "firing":
        new = replace(st, status="resolved", resolved_at=now, last_change=now, seen=0,
                      acked_until=None)
        states[st.fp] = new
        if not new.flapping:
            notices.append(Notice("resolved", new))


def tick(prev: States, now: float, policy: Policy,
         silences: tuple[Silence, ...] = ()) -> tuple[States, list[Notice]]:
    """Time passing: flapping settles, acks expire, escalations and repeats fall due."""
    states, notices = {}, []
    for fp, st in prev.items():
        new, notice = _age(st, now, policy, silences)
        if new is not None:
            states[fp] = new
        if notice is not None:
            notices.append(notice)
    return states, notices


def _age(st: AlertState, now: float, policy: Policy,
         silences: tuple[Silence, ...]) -> tuple[AlertState | None, Notice | None]:
    if _expired(st, now, policy):
        return None, None
    if st.acked_until is not None and now >= st.acked_until:
        st = replace(st, acked_until=None)
    if st.flapping and now - st.last_change >= policy.flap_window_s:
        st = replace(st, flapping=False, fires=())
        if st.status == "resolved" and st.kind is Kind.CONDITION:
            return st, Notice("resolved", st)
    if not st.open or st.flapping:
        return st, None
    st = replace(st, silenced=is_silenced(st.code, st.subject, silences, now))
    return _escalate_or_repeat(st, now, policy)


def _expired(st: AlertState, now: float, policy: Policy) -> bool:
    if st.kind is Kind.EVENT:
        return now - st.last_seen >= policy.event_keep_s
    quiet = st.status == "resolved" and not st.flapping
    return quiet and now - st.last_change >= policy.flap_window_s


def _escalate_or_repeat(st: AlertState, now: float,
                        policy: Policy) -> tuple[AlertState, Notice | None]:
    if st.acked_until is not None:
        return st, None
    limit = escalate_after(st.code, st.severity, policy)
    if limit is not None and now - st.tier_since >= limit:
        st = replace(st, severity=Severity(st.severity + 1), tier_since=now, last_notified=now,
                     escalated_from=st.escalated_from or st.severity.name)
        return st, Notice("escalated", st)
    every = repeat_every(st.code, st.severity, policy)
    if every is not None and st.last_notified is not None and now - st.last_notified >= every:
        st = replace(st, last_notified=now)
        return st, Notice("repeat", st)
    return st, None


def escalate_after(code: str, severity: Severity, policy: Policy) -> float | None:
    """Real seconds in `severity` before escalating (None: never). Environmental codes never
    reach CRITICAL; a real measurement needs its tier period AND the real escalation floor."""
    limit = policy.escalate_s.get(severity)
    if limit is None or (_environmental(code) and severity + 1 >= Severity.CRITICAL):
        return None
    return max(limit, policy.escalate_floor_s) if _real(code) else limit


def repeat_every(code: str, severity: Severity, policy: Policy) -> float | None:
    """Real seconds between repeats (a real measurement: never faster than its real floor)."""
    every = policy.repeat_s.get(severity)
    if every is None:
        return None
    return max(every, policy.sample_floor_s) if _real(code) else every


def ack(st: AlertState, until: float | None) -> AlertState:
    """Acknowledge: repeats and escalations stop until `until` (None: until it resolves)."""
    return replace(st, acked_until=until if until is not None else FOREVER, acked=True)
