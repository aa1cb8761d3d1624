"""The values that flow through burnin: severities, findings, check results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemon.catalog import CATALOG
from daemon.severity import Kind as Kind  # re-exported: the public home of both names
from daemon.severity import Severity as Severity

CHECKS = ("health", "position", "integrity", "jobs")


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation that something is wrong (SPEC §3)."""

    code: str
    severity: Severity
    subject: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    kind: Kind = Kind.CONDITION

    @property
    def fingerprint(self) -> str:
        """`code + subject` identifies one alert."""
        return f"{self.code}|{self.subject}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.name,
            "kind": self.kind.value,
            "subject": self.subject,
            "message": self.message,
            "evidence": dict(self.evidence),
        }


def finding(
    code: str,
    subject: str,
    message: str,
    evidence: Mapping[str, Any] | None = None,
    severity: Severity | None = None,
) -> Finding:
    """Build a finding with the catalog's default severity and kind for `code`."""
    info = CATALOG[code]
    return Finding(
        code=code,
        severity=severity if severity is not None else info.severity,
        subject=subject,
        message=message,
        evidence=dict(evidence or {}),
        kind=info.kind,
    )


def worst(findings: list[Finding]) -> Severity:
    """The highest severity among `findings`, INFO when there are none."""
    return max((f.severity for f in findings), default=Severity.INFO)


def color_of(top: Severity) -> str:
    """The one colour rule of SPEC §5, from the worst tier that counts: a CRITICAL is RED, a
    HIGH YELLOW, anything less GREEN. `burnin check` and the window's verdict both use it."""
    if top >= Severity.CRITICAL:
        return "RED"
    if top >= Severity.HIGH:
        return "YELLOW"
    return "GREEN"


def verdict_of(findings: list[Finding]) -> str:
    """SPEC §5 rule applied to one set of findings: RED / YELLOW / GREEN."""
    return color_of(worst(findings))
