"""The credit ledger of the reference system: an append-only journal and its own projection.

Every event is appended as one complete line; the projection (balances and the number of
events applied) is what the snapshot writer publishes as `runtime/balances.json`. The
projection applies events exactly as written, like burnin's replay (SPEC §2).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from daemon.clock import iso
from daemon.sim.files import append_json, complete_lines, replace_json


class Ledger:
    """Balances per agent, kept in step with the journal file it appends to."""

    def __init__(self, journal: Path, track_keys: bool = False) -> None:
        self.journal = journal
        self.balances: dict[str, Decimal] = {}
        self.event_count = 0
        self.track_keys = track_keys  # off in the worker: its memory must stay flat
        self.keys: list[str] = []

    @classmethod
    def replay(cls, journal: Path, track_keys: bool = False) -> Ledger:
        """Rebuild the projection from the journal (a restarted worker does this)."""
        ledger = cls(journal, track_keys)
        for line in complete_lines(journal):
            event = _parse(line)
            if event is not None:
                ledger.apply(event)
        return ledger

    def apply(self, event: dict[str, Any]) -> None:
        self.event_count += 1
        key = event.get("idempotency_key")
        if self.track_keys and isinstance(key, str):
            self.keys.append(key)
        agent, delta = event.get("agent_id"), event.get("delta")
        if isinstance(agent, str) and isinstance(delta, int | float | Decimal):
            self.balances[agent] = self.balances.get(agent, Decimal(0)) + Decimal(str(delta))

    def append(self, now: float, event_type: str, agent: str, key: str, correlation: str,
               **fields: Any) -> dict[str, Any]:
        """Write one event to the journal and apply it."""
        event = {"event_type": event_type, "agent_id": agent, **fields,
                 "idempotency_key": key, "correlation_id": correlation, "timestamp": iso(now)}
        append_json(self.journal, event)
        self.apply(event)
        return event

    def balance(self, agent: str) -> Decimal:
        return self.balances.get(agent, Decimal(0))

    def snapshot(self, offsets: dict[str, Decimal] | None = None) -> dict[str, Any]:
        """The projection as written to `runtime/balances.json` (offsets simulate drift)."""
        offsets = offsets or {}
        names = sorted(set(self.balances) | set(offsets))
        balances = {a: float(self.balance(a) + offsets.get(a, Decimal(0))) for a in names}
        return {"balances": balances, "event_count": self.event_count}

    def write_snapshot(self, path: Path, offsets: dict[str, Decimal] | None = None) -> None:
        replace_json(path, self.snapshot(offsets))


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(line, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None
