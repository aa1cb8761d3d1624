"""The alert state of one fingerprint, the notification policy, and the SPEC §4 alert record."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from daemon.catalog import CATALOG
from daemon.clock import iso
from daemon.model import Finding, Kind, Severity
from daemon.records import AlertRecord

# SPEC §4, nominal seconds: repeat while firing, escalate after firing this long in a tier.
REPEAT_S = {Severity.CRITICAL: 1800.0, Severity.HIGH: 3600.0, Severity.MEDIUM: 4 * 3600.0}
ESCALATE_S = {Severity.HIGH: 3600.0, Severity.MEDIUM: 4 * 3600.0}
FLAP_WINDOW_S = 3600.0
FLAP_MAX = 4
EVENT_KEEP_S = 24 * 3600.0


def fingerprint(code: str, subject: str) -> str:
    """A stable short id of `code + subject` (what `burnin ack` takes)."""
    return hashlib.sha256(f"{code}|{subject}".encode()).hexdigest()[:16]


def digest(f: Finding) -> str:
    """Identity of one event occurrence (same fingerprint, message and evidence = same event)."""
    text = f"{f.message}|{sorted((str(k), repr(v)) for k, v in f.evidence.items())}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Policy:
    """Every duration of the decision in real seconds (nominal / time scale).

    `sample_floor_s` and `escalate_floor_s` are real floors for conditions on a real
    measurement (SPEC §4 "Compression must never..."): such a condition fires (or rises a
    tier) only after holding `debounce_runs` runs AND `sample_floor_s`; it repeats no faster
    than `sample_floor_s` and escalates only after its tier period AND `escalate_floor_s`.
    """

    repeat_s: dict[Severity, float]
    escalate_s: dict[Severity, float]
    flap_window_s: float = FLAP_WINDOW_S
    flap_max: int = FLAP_MAX
    event_keep_s: float = EVENT_KEEP_S
    debounce_runs: int = 2
    sample_floor_s: float = 0.0
    escalate_floor_s: float = 0.0

    @classmethod
    def scaled(cls, scale: float, sample_floor_s: float = 0.0,
               escalate_floor_s: float = 0.0) -> Policy:
        return cls(
            repeat_s={k: v / scale for k, v in REPEAT_S.items()},
            escalate_s={k: v / scale for k, v in ESCALATE_S.items()},
            flap_window_s=FLAP_WINDOW_S / scale,
            event_keep_s=EVENT_KEEP_S / scale,
            sample_floor_s=sample_floor_s,
            escalate_floor_s=escalate_floor_s,
        )

    @classmethod
    def from_config(cls, cfg: Any, scale: float) -> Policy:
        """The policy of a loaded `Config` at the window's time scale."""
        th = cfg.thresholds
        return cls.scaled(scale, th.sample_for_min, th.sample_escalate_min)


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    code: str | None
    subject: str | None
    until: float
    reason: str
    created: float

    def matches(self, code: str, subject: str, now: float) -> bool:
        if now >= self.until or now < self.created:
            return False
        return (self.code in (None, "", code)) and (self.subject in (None, "", subject))


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the engine remembers about one fingerprint."""

    fp: str
    rule: str
    code: str
    subject: str
    severity: Severity
    kind: Kind
    message: str
    evidence: dict[str, Any]
    status: str  # pending | firing | resolved
    first_seen: float
    last_seen: float
    seen: int = 1
    fired: bool = False
    tier_since: float = 0.0
    last_notified: float | None = None
    resolved_at: float | None = None
    escalated_from: str | None = None
    fires: tuple[float, ...] = ()
    flapping: bool = False
    last_change: float = 0.0
    acked_until: float | None = None
    acked: bool = False
    silenced: bool = False
    silenced_before_fire: bool = False
    digests: tuple[str, ...] = field(default=())
    rise_since: float | None = None  # a real measurement seen above its tier since then
    rise_seen: int = 0

    @property
    def open(self) -> bool:
        return self.kind is Kind.CONDITION and self.status == "firing"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.name
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertState:
        data = dict(data)
        data["severity"] = Severity[data["severity"]]
        data["kind"] = Kind(data["kind"])
        data["fires"] = tuple(data.get("fires", ()))
        data["digests"] = tuple(data.get("digests", ()))
        return cls(**data)


def record(st: AlertState, *, system: str, host: str, window_id: str) -> AlertRecord:
    """The SPEC §4 alert record of `st`."""
    info = CATALOG.get(st.code)
    return AlertRecord(
        fingerprint=st.fp, status="resolved" if st.status == "resolved" else "firing",
        code=st.code, severity=st.severity.name, kind=st.kind.value, subject=st.subject,
        message=st.message, runbook=info.runbook if info else "",
        first_seen=iso(st.first_seen), last_seen=iso(st.last_seen),
        resolved_at=iso(st.resolved_at), escalated_from=st.escalated_from,
        system=system, host=host, window_id=window_id, evidence=st.evidence)
