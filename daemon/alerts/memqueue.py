"""The outbox of last resort: messages kept in memory while SQLite cannot commit (disk full,
read-only runtime folder). SPEC §5: burnin degrades, it does not die.

Bounded (the oldest message is dropped beyond `limit`, counted and logged by the engine),
ordered per channel (a worker takes its channel's oldest message first), and settled like the
durable outbox (`delivered`, `retry_later`, `give_up`). Rows carry negative ids, so a worker
tells them from SQLite rows. When the disk works again the engine moves what is still waiting
(and not being sent right now) into SQLite (`idle`, then `forget`): at-least-once resumes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from daemon.alerts.store import OutboxRow
from daemon.records import Episode

LIMIT = 1000  # messages; far above one window's worth of news while a disk is fixed


class MemQueue:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.rows: dict[int, OutboxRow] = {}  # insertion order is message order
        self.sending: set[int] = set()
        self.dropped = 0
        self._ids = itertools.count(-1, -1)

    def __len__(self) -> int:
        return len(self.rows)

    def put(self, msg_id: str, channel: str, payload: dict[str, Any], now: float) -> int:
        """Queue one message; how many older ones were dropped to stay within the limit."""
        row_id = next(self._ids)
        self.rows[row_id] = OutboxRow(row_id, msg_id, channel, payload, now, 0, now)
        dropped = 0
        while len(self.rows) > self.limit:
            oldest = next(i for i in self.rows if i not in self.sending)
            del self.rows[oldest]
            dropped += 1
        self.dropped += dropped
        return dropped

    def next_pending(self, channel: str) -> OutboxRow | None:
        """The oldest message of `channel`."""
        return next((r for r in self.rows.values() if r.channel == channel), None)

    def claim(self, row_id: int) -> None:
        """A worker is sending it: it stays here until settled (`idle` leaves it out)."""
        if row_id in self.rows:
            self.sending.add(row_id)

    def delivered(self, row_id: int) -> None:
        self.rows.pop(row_id, None)
        self.sending.discard(row_id)

    def retry_later(self, row_id: int, next_at: float, error: str) -> None:
        self.sending.discard(row_id)
        row = self.rows.get(row_id)
        if row is not None:
            self.rows[row_id] = replace(row, attempts=row.attempts + 1, next_at=next_at)

    def give_up(self, row_id: int, status: str, error: str) -> None:
        """A permanent failure: nothing keeps it for inspection here (it is logged)."""
        self.delivered(row_id)

    def drop_channel(self, channel: str) -> None:
        """The channel answered 410 Gone: its messages go nowhere."""
        for row_id in [i for i, r in self.rows.items() if r.channel == channel]:
            self.delivered(row_id)

    def idle(self) -> list[OutboxRow]:
        """Every message not being sent right now, oldest first (to be written to SQLite);
        one in flight stays here and is settled here by its worker."""
        return [r for i, r in self.rows.items() if i not in self.sending]

    def forget(self, rows: list[OutboxRow]) -> None:
        """`rows` (from `idle`) are safely in SQLite now."""
        for row in rows:
            self.rows.pop(row.id, None)

    def pending(self) -> int:
        return len(self.rows)


@dataclass
class Unsaved:
    """What the engine decided while SQLite refused to commit, beyond the alert states it
    holds anyway: written in one transaction when the disk works again."""

    error: str | None = None  # the last commit error; None: SQLite commits
    removed: set[str] = field(default_factory=set)  # alert fingerprints gone
    episodes: dict[tuple[str, float], Episode] = field(default_factory=dict)
    digests: set[tuple[str, str]] = field(default_factory=set)
    batches: int = 0  # decisions kept in memory only

    def keep(self, removed: list[str], episodes: dict[tuple[str, float], Episode],
             digests: set[tuple[str, str]]) -> None:
        self.removed.update(removed)
        self.episodes.update(episodes)
        self.digests |= digests
        self.batches += 1
