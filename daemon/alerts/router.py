"""Grouping and routing (pure): notices wait in a per-code group, then become one message
per channel.

CRITICAL and HIGH are due at once; MEDIUM and INFO wait `group_wait` so that a burst of one
code goes out as one digest. Whatever is decided in one call is grouped by code, so 1,000
findings at once give one message per code per channel, never 1,000 messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daemon.model import Severity


@dataclass(frozen=True, slots=True)
class Held:
    code: str
    due: float
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Route:
    """What a channel accepts: everything (`always`), or unsilenced records >= min severity."""

    name: str
    min_severity: Severity
    always: bool = False

    def accepts(self, rec: dict[str, Any]) -> bool:
        if self.always:
            return True
        sev = Severity[rec["severity"]]
        return not rec.get("silenced") and sev > Severity.INFO and sev >= self.min_severity


def hold(held: list[Held], records: list[dict[str, Any]], now: float,
         group_wait_s: float) -> list[Held]:
    """Add `records` to the waiting groups; a code's group is due at its earliest member's due."""
    due = {h.code: h.due for h in held}
    out = list(held)
    for rec in records:
        urgent = Severity[rec["severity"]] >= Severity.HIGH
        mine = now if urgent else now + group_wait_s
        due[rec["code"]] = min(due.get(rec["code"], mine), mine)
        out.append(Held(rec["code"], 0.0, rec))
    return [Held(h.code, due[h.code], h.record) for h in out]


def flush(held: list[Held], now: float) -> tuple[dict[str, list[dict]], list[Held]]:
    """Groups due at `now` (code -> records, in decision order) and what keeps waiting."""
    groups: dict[str, list[dict]] = {}
    rest: list[Held] = []
    for h in held:
        if h.due <= now:
            groups.setdefault(h.code, []).append(h.record)
        else:
            rest.append(h)
    return groups, rest


def route(records: list[dict[str, Any]], routes: list[Route]) -> dict[str, list[dict]]:
    """Channel name -> the records of one group it should receive (empty ones left out)."""
    out = {}
    for r in routes:
        mine = [rec for rec in records if r.accepts(rec)]
        if mine:
            out[r.name] = mine
    return out
