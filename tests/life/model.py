"""A small pure reference model of SPEC §4 for the lifecycle test (the way Jepsen/Elle check
histories): given what the observed tree held at each look, the acks, silences and the time,
which notices must each channel have received, and when they were decided.

Scope: conditions that fire on their first look (no debounce: `jobs.stale_claim`, HIGH) and
events (`jobs.duplicate_processing`, CRITICAL, once). Rules (nominal seconds, scale 1):
fire at the first look that sees the condition; a HIGH alert escalates to CRITICAL after
3600 s in its tier, a CRITICAL one repeats every 1800 s; an ack stops repeats and
escalations until it expires or the alert resolves; a look that no longer sees it resolves
it; more than 4 fires within 3600 s is flapping: one `flapping` notice, then silence until
3600 s pass without a change (then `resolved` if it is gone); a resolved alert is forgotten
3600 s after its last change. A silenced notice goes to the alert log (marked) and not to
the webhook. The engine reads new acks and silences at its tick (after the look).
"""

from __future__ import annotations

from dataclasses import dataclass, field

HIGH, CRITICAL = "HIGH", "CRITICAL"
REPEAT_S = {CRITICAL: 1800.0, HIGH: 3600.0}
ESCALATE_S = {HIGH: 3600.0}
FLAP_WINDOW_S = 3600.0
FLAP_MAX = 4
FOREVER = 1e18


@dataclass(frozen=True)
class Notice:
    step: int
    subject: str
    code: str
    reason: str
    severity: str
    silenced: bool


@dataclass
class Cond:
    status: str = "none"  # none | firing | resolved
    severity: str = HIGH
    first_seen: float = 0.0
    tier_since: float = 0.0
    last_notified: float = 0.0
    last_change: float = 0.0
    acked_until: float | None = None
    fires: list[float] = field(default_factory=list)
    flapping: bool = False
    silenced: bool = False


@dataclass
class Model:
    conds: dict[str, Cond] = field(default_factory=dict)
    silences: list[tuple[str, float, float]] = field(default_factory=list)  # subj, from, until
    known_silences: list[tuple[str, float, float]] = field(default_factory=list)
    acks: list[tuple[str, float | None, float]] = field(default_factory=list)  # subj, until, at
    applied: dict[str, float] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    step: int = 0

    # -- inputs ----------------------------------------------------------------------------

    def silenced(self, subject: str, now: float) -> bool:
        return any(s == subject and t0 <= now < t1 for s, t0, t1 in self.known_silences)

    def firing(self, subject: str) -> bool:
        c = self.conds.get(subject)
        return c is not None and c.status == "firing"

    def ack(self, subject: str, until: float | None, now: float) -> bool:
        """`burnin ack`: refused unless the alert is open."""
        if not self.firing(subject):
            return False
        self.acks = [a for a in self.acks if a[0] != subject] + [(subject, until, now)]
        return True

    def silence(self, subject: str, now: float, for_s: float) -> None:
        self.silences.append((subject, now, now + for_s))

    def restart(self) -> None:
        """A (re)start reads every silence at once."""
        self.known_silences = list(self.silences)

    # -- a look and a tick -----------------------------------------------------------------

    def look(self, present: set[str], all_subjects: set[str], events: list[str],
             now: float) -> None:
        for subject in sorted(all_subjects | present):
            c = self.conds.setdefault(subject, Cond())
            if subject in present and c.status != "firing":
                self._fire(subject, c, now)
            elif subject not in present and c.status == "firing":
                c.status, c.last_change, c.acked_until = "resolved", now, None
                if not c.flapping:
                    self._say(subject, "jobs.stale_claim", "resolved", c.severity, c.silenced)
        for job in events:
            self._say(job, "jobs.duplicate_processing", "first", CRITICAL,
                      self.silenced(job, now))

    def _fire(self, subject: str, c: Cond, now: float) -> None:
        c.fires = [t for t in c.fires if now - t < FLAP_WINDOW_S] + [now]
        c.status, c.severity, c.first_seen, c.tier_since = "firing", HIGH, now, now
        c.last_change, c.acked_until = now, None
        c.silenced = self.silenced(subject, now)
        if len(c.fires) > FLAP_MAX:
            if not c.flapping:
                c.flapping, c.last_notified = True, now
                self._say(subject, "jobs.stale_claim", "flapping", HIGH, c.silenced)
            return
        if not c.flapping:
            c.last_notified = now
            self._say(subject, "jobs.stale_claim", "first", HIGH, c.silenced)

    def tick(self, now: float) -> None:
        self.known_silences = list(self.silences)
        self._apply_acks()
        for subject in sorted(self.conds):
            c = self.conds[subject]
            if c.status == "resolved" and not c.flapping and now - c.last_change >= FLAP_WINDOW_S:
                self.conds[subject] = Cond()
                continue
            self._age(subject, c, now)

    def _apply_acks(self) -> None:
        for subject, until, at in self.acks:
            c = self.conds.get(subject)
            if c is None or c.status != "firing" or at < c.first_seen:
                continue
            if at > self.applied.get(subject, float("-inf")):
                c.acked_until = until if until is not None else FOREVER
                self.applied[subject] = at

    def _age(self, subject: str, c: Cond, now: float) -> None:
        if c.acked_until is not None and now >= c.acked_until:
            c.acked_until = None
        if c.flapping and now - c.last_change >= FLAP_WINDOW_S:
            c.flapping, c.fires = False, []
            if c.status == "resolved":
                self._say(subject, "jobs.stale_claim", "resolved", c.severity, c.silenced)
                return
        if c.status != "firing" or c.flapping:
            return
        c.silenced = self.silenced(subject, now)
        if c.acked_until is not None:
            return
        limit = ESCALATE_S.get(c.severity)
        if limit is not None and now - c.tier_since >= limit:
            c.severity, c.tier_since, c.last_notified = CRITICAL, now, now
            self._say(subject, "jobs.stale_claim", "escalated", CRITICAL, c.silenced)
        elif now - c.last_notified >= REPEAT_S[c.severity]:
            c.last_notified = now
            self._say(subject, "jobs.stale_claim", "repeat", c.severity, c.silenced)

    def _say(self, subject: str, code: str, reason: str, severity: str,
             silenced: bool) -> None:
        self.notices.append(Notice(self.step, subject, code, reason, severity, silenced))

    # -- what each channel must have received ----------------------------------------------

    def expected(self, channel: str) -> list[tuple[int, str, str, str, str]]:
        """(step, code, subject, reason, severity), sorted; the webhook drops silenced."""
        return sorted((n.step, n.code, n.subject, n.reason, n.severity) for n in self.notices
                      if channel == "alertlog" or not n.silenced)
