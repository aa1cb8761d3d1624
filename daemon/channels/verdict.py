"""The verdict notification (SPEC §5): one typed message that every channel renders.

The outbox stores it as a plain dict (`to_dict`); a channel reads it back with `from_dict`,
which refuses a document that lacks a field or carries a wrong type — a renderer never
prints "None" for a verdict it was not given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from daemon.errors import PermanentDeliveryError

COLORS = {"GREEN": ("GO", 0, "INFO"), "YELLOW": ("CONDITIONAL", 1, "HIGH"),
          "RED": ("NO-GO", 2, "CRITICAL")}
SEVERITIES = ("INFO", "MEDIUM", "HIGH", "CRITICAL")


class MalformedVerdictError(PermanentDeliveryError):
    """A verdict message cannot be read (missing field, wrong type, unknown colour): a
    channel keeps it as `failed` in the outbox rather than send an empty verdict."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason of the verdict: an alert that fired (or the coverage), with its evidence."""

    severity: str
    code: str
    subject: str
    message: str
    evidence: dict[str, Any]

    def __post_init__(self) -> None:
        _check(self.severity in SEVERITIES, f"reason severity {self.severity!r}")
        for name in ("code", "subject", "message"):
            _check(isinstance(getattr(self, name), str), f"reason {name} is not text")
        _check(isinstance(self.evidence, dict), "reason evidence is not an object")

    @classmethod
    def from_verdict(cls, r: dict[str, Any]) -> Reason:
        """From a `daemon.window.verdict` reason (tolerant: that dict is built in-process)."""
        evidence = r.get("evidence")
        return cls(str(r.get("severity", "HIGH")), str(r.get("code", "?")),
                   str(r.get("subject") or ""), str(r.get("message") or ""),
                   dict(evidence) if isinstance(evidence, dict) else {})

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "subject": self.subject,
                "message": self.message, "evidence": self.evidence}


@dataclass(frozen=True, slots=True)
class VerdictMessage:
    """Everything a channel says about a finished window; `color` is GREEN/YELLOW/RED."""

    color: str
    label: str
    exit_code: int
    window_id: str
    system: str
    host: str
    coverage: float
    finished_at: str
    reasons: tuple[Reason, ...]
    report: str  # path of final.md (final.html and final.json sit beside it)

    def __post_init__(self) -> None:
        _check(self.color in COLORS, f"verdict colour {self.color!r}")
        label, code, _ = COLORS[self.color]
        _check(self.label == label, f"label {self.label!r} for {self.color}")
        _check(self.exit_code == code, f"exit code {self.exit_code!r} for {self.color}")
        _check(bool(self.window_id) and isinstance(self.window_id, str), "no window id")
        _check(isinstance(self.coverage, int | float), "coverage is not a number")
        _check(bool(self.report) and isinstance(self.report, str), "no report path")
        _check(all(isinstance(r, Reason) for r in self.reasons), "reasons are not Reasons")

    @property
    def severity(self) -> str:
        """The alert tier the verdict is sent at: RED CRITICAL, YELLOW HIGH, GREEN INFO."""
        return COLORS[self.color][2]

    def sent_from(self, system: str, host: str) -> VerdictMessage:
        return replace(self, system=system, host=host)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (and the fields of the `burnin` webhook document)."""
        return {"verdict": self.color, "label": self.label, "exit_code": self.exit_code,
                "window_id": self.window_id, "system": self.system, "host": self.host,
                "coverage": self.coverage, "finished_at": self.finished_at,
                "reasons": [r.to_dict() for r in self.reasons], "report": self.report}

    @classmethod
    def from_dict(cls, doc: Any) -> VerdictMessage:
        """Strict: raises `MalformedVerdictError` for anything missing or mistyped."""
        try:
            reasons = tuple(Reason(**r) for r in doc["reasons"])
            return cls(doc["verdict"], doc["label"], doc["exit_code"], doc["window_id"],
                       doc["system"], doc["host"], doc["coverage"], doc["finished_at"],
                       reasons, doc["report"])
        except (KeyError, TypeError) as exc:
            raise MalformedVerdictError(f"verdict message: {type(exc).__name__} {exc}") from None


def _check(ok: bool, problem: str) -> None:
    if not ok:
        raise MalformedVerdictError(f"verdict message: {problem}")
