"""daemon/sources/journal_conditions.py: what a Book says about the journal as a whole."""

from __future__ import annotations

from decimal import Decimal

from daemon.sources.journal_book import Book
from daemon.sources.journal_conditions import diff, negatives

from .journal_support import book


def _fed(*deltas: object, keys: bool = False) -> Book:
    b = book()
    lines = [(f'{{"agent_id":"a","delta":{d},"correlation_id":"c"'
              + (f',"idempotency_key":"k{i}"' if keys else "") + "}").encode()
             for i, d in enumerate(deltas)]
    b.feed(lines, 1, 0)
    b.drain()
    return b


def test_negatives_are_the_accounts_below_zero() -> None:
    """Only accounts below zero are listed, with their exact balance."""
    b = book()
    b.feed([b'{"agent_id":"a","delta":"-1.5"}', b'{"agent_id":"b","delta":0}',
            b'{"agent_id":7,"delta":-2}'], 1, 0)
    assert negatives(b) == [("a", Decimal("-1.5")), (7, Decimal(-2))]


def test_equal_books_do_not_differ() -> None:
    """Two replays of the same lines agree: an empty difference."""
    found = diff(_fed(1, 2), _fed(1, 2), 10)
    assert not found.differs
    assert (found.counters, found.accounts, found.keys) == ({}, [], (0, 0))


def test_differing_balances_name_the_accounts() -> None:
    """A balance that differs names the account with both balances."""
    found = diff(_fed(1, 2), _fed(1, 5), 10)
    assert found.differs and found.offset == 10
    assert found.accounts == [("a", Decimal(3), Decimal(6))] and found.counters == {}


def test_differing_counters_and_keys_are_listed() -> None:
    """A counter or a key count that differs is part of the difference."""
    found = diff(_fed(1, 2), _fed(1, 2, 0, keys=True), 10)
    assert found.counters == {"events": [2, 3], "lines": [2, 3]}
    assert found.keys == (0, 3) and found.differs
