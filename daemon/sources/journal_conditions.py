"""What a Book says about the journal as a whole: the inputs of its conditions (observations).

checks/journal_decide.py judges them (negative balances, replay mismatch).
"""

from __future__ import annotations

from typing import Any

from daemon.sources.journal_book import COUNTERS, Book
from daemon.sources.journal_obs import BookDiff


def negatives(book: Book) -> list[tuple[Any, Any]]:
    """The accounts below zero, with their balances, in the book's order."""
    return [(acc, bal) for acc, bal in book.balances.items() if bal < 0]


def diff(inc: Book, rep: Book, offset: int) -> BookDiff:
    """How the incremental books differ from a full replay up to byte `offset`."""
    counters = {name: [inc.counts[name], rep.counts[name]] for name in COUNTERS
                if inc.counts[name] != rep.counts[name]}
    accounts = sorted({str(a) for a in set(inc.balances) | set(rep.balances)
                       if inc.balances.get(a, 0) != rep.balances.get(a, 0)})
    inc_of, rep_of = _by_text(inc, accounts), _by_text(rep, accounts)
    return BookDiff(offset, counters, [(a, inc_of.get(a, 0), rep_of.get(a, 0)) for a in accounts],
                    (inc.key_count, rep.key_count))


def _by_text(book: Book, accounts: list[str]) -> dict[str, Any]:
    """The balances of `accounts` (by text; the first account of that text wins)."""
    wanted, out = set(accounts), {}
    for acc, bal in book.balances.items() if wanted else ():
        text = str(acc)
        if text in wanted and text not in out:
            out[text] = bal
    return out
