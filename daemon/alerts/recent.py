"""`alerts.recent` of status.json: what fired in the window and is not open any more.

`alerts.open` lists only conditions still firing, so a window RED from a one-off event (a
duplicate job, a corrupt journal line) or from a condition that has since resolved showed "RED,
0 open alerts". The live views list these recent ones beside the open ones. Pure: the window's
fired history (`AlertEngine.fired()`) in, at most `limit` brief records out, newest first;
when there are more, CRITICAL and HIGH ones are kept before the rest, so RED and YELLOW are
always explained.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from daemon.clock import parse_timestamp
from daemon.records import Episode

LIMIT = 20
KEYS = ("fingerprint", "code", "severity", "kind", "status", "subject", "message",
        "first_seen", "last_seen", "resolved_at", "escalated_from", "acked", "silenced",
        "silenced_before_fire")
SEVERE = frozenset({"CRITICAL", "HIGH"})


def recent(fired: Sequence[Episode], limit: int = LIMIT) -> list[dict[str, Any]]:
    """Events and resolved alerts of the window, newest first, severe ones kept first (as
    status.json's `alerts.recent` objects)."""
    done = [a for a in fired if not a.is_open]
    done.sort(key=_when, reverse=True)
    kept = sorted(done, key=lambda a: a.severity not in SEVERE)[:max(0, limit)]
    kept.sort(key=_when, reverse=True)
    return [{k: getattr(a, k) for k in KEYS} for a in kept]


def _when(alert: Episode) -> float:
    """When it last happened: resolution, else last seen, else first seen."""
    for stamp in (alert.resolved_at, alert.last_seen, alert.first_seen):
        ts = parse_timestamp(stamp)
        if ts is not None:
            return ts
    return 0.0
