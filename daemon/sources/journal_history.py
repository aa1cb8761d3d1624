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

import msgspec

KEEP = 16384


def applied(a: Any, d: Any) -> bool:
    """Whether the book applies this delta (same test as `Book._apply`)."""
    return d.__class__ is Decimal and (a.__class__ is str or a.__class__ is int)


class History:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        # [events before the batch, its accounts, its deltas]: one entry per event; the deltas
        # may still be their JSON text joined by ',' (decoded when first needed)
        self.batches: deque[list[Any]] = deque()
        self.start = 0  # changes after event `start` are all kept
        self.unapplied: set[int] = set()  # event numbers whose addition was refused

    def add(self, before: int, accounts: list[Any], deltas: list[Any] | bytes) -> None:
        if not accounts:
            return
        self.batches.append([before, accounts, deltas])
        after = before + len(accounts)
        while len(self.batches) > 1 and after - self.batches[1][0] >= self.keep:
            self.batches.popleft()
            self.start = self.batches[0][0]

    def changes_after(self, n: int) -> Iterator[tuple[Any, Decimal]]:
        for batch in reversed(self.batches):
            before, accounts, deltas = _decoded(batch)
            number = before + len(accounts)
            for a, d in zip(reversed(accounts), reversed(deltas), strict=True):
                if number <= n:
                    return
                if applied(a, d) and number not in self.unapplied:
                    yield a, d
                number -= 1

    def dump(self) -> dict[str, Any]:
        changes = []
        for batch in self.batches:
            before, accounts, deltas = _decoded(batch)
            for number, a, d in zip(range(before + 1, before + 1 + len(accounts)), accounts,
                                    deltas, strict=True):
                if applied(a, d) and number not in self.unapplied:
                    changes.append([number, a, str(d)])
        return {"start": self.start, "changes": changes}

    def load(self, data: dict[str, Any], events: int) -> None:
        """Restore from `dump`; `events` is the book's event count."""
        self.batches.clear()
        self.start = int(data["start"])
        last = self.start
        for number, account, delta in data["changes"]:
            number = int(number)
            if last < number <= events:
                self.batches.append([number - 1, [account], [Decimal(delta)]])
                last = number


_DECIMALS = msgspec.json.Decoder(list[Decimal]).decode


def _decoded(batch: list[Any]) -> list[Any]:
    if batch[2].__class__ is bytes:
        batch[2] = _DECIMALS(b"[" + batch[2] + b"]")
    return batch
