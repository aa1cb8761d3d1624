"""daemon/sources/journal_history.py: the recent balance changes, for a lagging snapshot."""

from __future__ import annotations

from decimal import Decimal

from daemon.sources.journal_history import History, applied


def test_changes_after_n_are_newest_first() -> None:
    """The changes applied after event n come back newest first."""
    h = History()
    h.add(0, ["a", "b", "a"], [Decimal(1), Decimal(2), Decimal(3)])
    assert list(h.changes_after(1)) == [("a", Decimal(3)), ("b", Decimal(2))]


def test_old_batches_are_dropped_past_keep() -> None:
    """A batch is dropped once the batches after it hold `keep` events; `start` moves on."""
    h = History(keep=3)
    h.add(0, ["a"], [Decimal(1)])
    h.add(1, ["a", "a"], [Decimal(2), Decimal(3)])
    h.add(3, ["a", "a"], [Decimal(4), Decimal(5)])
    assert h.start == 1 and [b[0] for b in h.batches] == [1, 3]
    assert [d for _, d in h.changes_after(1)] == [Decimal(5), Decimal(4), Decimal(3), Decimal(2)]


def test_only_applied_deltas_count() -> None:
    """A delta the book refused (not a Decimal, or a bad account) is no change."""
    assert applied("a", Decimal(1)) and not applied("a", 1.5) and not applied(None, Decimal(1))


def test_dump_and_load_keep_the_changes() -> None:
    """A dumped history loads back with the same changes after any event."""
    h = History()
    h.add(0, ["a", "b"], [Decimal("0.1"), Decimal(2)])
    again = History()
    again.load(h.dump(), events=2)
    assert list(again.changes_after(0)) == list(h.changes_after(0))
