"""The typed alert records handed between stages (STYLE.md §12).

`AlertRecord` is the SPEC §4 alert record (`burnin.alert/1`) of one alert at one moment; an
`Episode` is one firing of one alert in a window, as the engine's history keeps it (the record
plus how it was silenced, acknowledged and notified). The alert engine builds them; the window
(verdict), the report and status.json read them as attributes. Dicts exist only at the edges:
`to_dict()` writes the file formats (SQLite, status.json, the report's JSON) with the same keys
as before, `Episode.parse` reads one back from loose data (a stored spot report), never raising.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA = "burnin.alert/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRecord:
    """SPEC §4: one alert (`code` + `subject`) as it is now. Times are ISO 8601 text."""

    fingerprint: str
    status: str  # firing | resolved
    code: str
    severity: str  # the tier now (after escalation): INFO, MEDIUM, HIGH, CRITICAL
    kind: str  # condition | event
    subject: str
    message: str
    runbook: str = ""
    first_seen: str | None = None
    last_seen: str | None = None
    resolved_at: str | None = None
    escalated_from: str | None = None  # the tier it fired at, when it escalated
    system: str = ""
    host: str = ""
    window_id: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_event(self) -> bool:
        return self.kind == "event"

    @property
    def is_open(self) -> bool:
        """A condition still firing (an event is never open)."""
        return not self.is_event and self.status == "firing"

    def to_dict(self) -> dict[str, Any]:
        """The `burnin.alert/1` JSON object (key order as SPEC §4 lists them)."""
        out: dict[str, Any] = {"schema": SCHEMA}
        for f in fields(AlertRecord):
            out[f.name] = getattr(self, f.name)
        out["evidence"] = dict(self.evidence)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode(AlertRecord):
    """One firing of an alert in a window (`AlertEngine.fired()`): its latest record, and
    whether it was silenced (before it fired: planned, not counted), acknowledged, notified.
    `since` is its first sighting in epoch seconds (the history's key)."""

    silenced: bool = False
    silenced_before_fire: bool = False
    acked: bool = False
    notified_at: str | None = None
    since: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The record plus its window flags (what the alert history stores, without `since`)."""
        return AlertRecord.to_dict(self) | {
            "silenced": self.silenced, "silenced_before_fire": self.silenced_before_fire,
            "acked": self.acked, "notified_at": self.notified_at}

    @classmethod
    def parse(cls, doc: object, since: float = 0.0) -> Episode | None:
        """An episode from loose data (a stored history row, a report's `alerts` entry);
        None when `doc` is not an object. Missing or mistyped fields take safe values: a
        reader of old or damaged files never crashes."""
        if not isinstance(doc, Mapping):
            return None
        evidence = doc.get("evidence")
        return cls(
            fingerprint=_text(doc.get("fingerprint")), status=_text(doc.get("status")),
            code=_text(doc.get("code"), "?"), severity=_text(doc.get("severity")),
            kind=_text(doc.get("kind"), "condition"), subject=_text(doc.get("subject")),
            message=_text(doc.get("message")), runbook=_text(doc.get("runbook")),
            first_seen=_opt(doc.get("first_seen")), last_seen=_opt(doc.get("last_seen")),
            resolved_at=_opt(doc.get("resolved_at")),
            escalated_from=_opt(doc.get("escalated_from")),
            system=_text(doc.get("system")), host=_text(doc.get("host")),
            window_id=_text(doc.get("window_id")),
            evidence=dict(evidence) if isinstance(evidence, Mapping) else {},
            silenced=bool(doc.get("silenced")),
            silenced_before_fire=bool(doc.get("silenced_before_fire")),
            acked=bool(doc.get("acked")), notified_at=_opt(doc.get("notified_at")),
            since=since)


def episodes(docs: Iterable[object]) -> list[Episode]:
    """Every episode in loose data, the unusable entries left out."""
    return [e for e in (Episode.parse(d) for d in docs) if e is not None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """What one status write hands the window (series, host load, spot reports) and the report:
    the checks' figures by group (status.json `metrics`), open alerts per tier, burnin's own
    process figures (`rss_bytes`, `cpu_percent`), the system's name and its open alerts.
    The daemon builds it from its parts; `parse` reads one from a status document on disk."""

    metrics: Mapping[str, Any] = field(default_factory=dict)
    counts: Mapping[str, Any] = field(default_factory=dict)
    daemon: Mapping[str, Any] = field(default_factory=dict)
    system: str = ""
    open: tuple[Episode, ...] = ()

    @classmethod
    def parse(cls, doc: object) -> Figures:
        """The figures of a status document read back (status.json): loose, never raises."""
        d = _mapping(doc)
        alerts = _mapping(d.get("alerts"))
        found = alerts.get("open")
        return cls(metrics=_mapping(d.get("metrics")), counts=_mapping(alerts.get("counts")),
                   daemon=_mapping(d.get("daemon")), system=_text(d.get("system")),
                   open=tuple(episodes(found)) if isinstance(found, list) else ())


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object, default: str = "") -> str:
    return default if value is None else str(value)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
