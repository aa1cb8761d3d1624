"""daemon/sources/journal_state.py: a book and its position persisted in one file."""

from __future__ import annotations

import io

import pytest

from daemon.sources.journal_scan import Position, scan
from daemon.sources.journal_state import dump, load

from .journal_support import book, line


def test_dump_then_load_gives_the_same_book() -> None:
    """A loaded state has the balances, counters, keys and position that were dumped."""
    b, pos = book(), Position()
    scan(io.BytesIO(line(1, delta="0.1") + line(2, account="b", delta=-2)), pos, b)
    again = book()
    loaded_pos, extra = load(dump(b, pos, {"ident": [1, 2]}), again)
    assert (loaded_pos, extra) == (pos, {"ident": [1, 2]})
    assert again.balances == b.balances and again.counts == b.counts
    assert again.key_count == b.key_count == 2


@pytest.mark.parametrize("data", [b"", b"not json\n", b'{"version": 1}\n', b'{"version": 2}\n'])
def test_a_state_that_does_not_fit_is_refused(data: bytes) -> None:
    """A garbled, old or incomplete state raises ValueError (the caller re-reads the journal)."""
    with pytest.raises(ValueError, match="journal state"):
        load(data, book())
