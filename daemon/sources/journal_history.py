"""The most recent balance changes, kept to reconcile a snapshot that lags the journal.

Batches of decoded events are kept whole (no per-event cost in the hot loop) until at least
`keep` newer events exist. `changes_after(n)` yields the (account, delta) applied after event
number `n`, newest first, as long as `n >= start` (nothing after `n` was dropped).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

KEEP = 16384


def applied(ev: Any) -> bool:
    """Whether the hot loop applies this event's delta (same test as `Book._apply`)."""
    return ev is not None and ev.d.__class__ is Decimal and (
        ev.a.__class__ is str or ev.a.__class__ is int)


class History:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self.batches: deque[tuple[int, int, list[Any]]] = deque()  # (n before, n after, events)
        self.start = 0  # changes after event `start` are all kept
        self.unapplied: set[int] = set()  # event numbers whose addition was refused

    def add(self, before: int, after: int, events: list[Any]) -> None:
        if after == before:
            return
        self.batches.append((before, after, events))
        while len(self.batches) > 1 and after - self.batches[1][0] >= self.keep:
            self.start = self.batches.popleft()[1]

    def changes_after(self, n: int) -> Iterator[tuple[Any, Decimal]]:
        for before, after, events in reversed(self.batches):
            if after <= n:
                return
            number = after
            for ev in reversed(events):
                if ev is None:
                    continue
                if number > n and applied(ev) and number not in self.unapplied:
                    yield ev.a, ev.d
                number -= 1
            if before <= n:
                return

    def dump(self) -> dict[str, Any]:
        changes = []
        for before, _after, events in self.batches:
            number = before
            for ev in events:
                if ev is None:
                    continue
                number += 1
                if applied(ev) and number not in self.unapplied:
                    changes.append([number, ev.a, str(ev.d)])
        return {"start": self.start, "changes": changes}

    def load(self, data: dict[str, Any], events: int) -> None:
        """Restore from `dump`; `events` is the book's event count."""
        from daemon.sources.journal_parse import Flat

        self.batches.clear()
        self.start = int(data["start"])
        last = self.start
        for number, account, delta in data["changes"]:
            number = int(number)
            if number > last:
                self.batches.append((number - 1, number, [Flat(a=account, d=Decimal(delta))]))
                last = number
        if last < events:
            self.batches.append((last, events, []))
