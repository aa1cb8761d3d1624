"""daemon/sources/journal_scan.py: reading the journal's complete lines from a position."""

from __future__ import annotations

import io
import zlib
from decimal import Decimal

from daemon.sources.journal_scan import Position, crc_of, scan

from .journal_support import book, line


def test_complete_lines_are_applied_and_the_tail_is_left() -> None:
    """Complete lines move the position; an unterminated tail is reported, not applied."""
    data = line(1) + line(2, delta=2) + b'{"agent_id": "a", "del'
    b, pos = book(), Position()
    tail = scan(io.BytesIO(data), pos, b)
    assert (pos.lines, pos.offset, tail) == (2, len(line(1) + line(2, delta=2)), 22)
    assert b.balances["a"] == Decimal(3)


def test_scan_resumes_where_it_stopped() -> None:
    """A second scan from the returned position applies only the new lines."""
    b, pos = book(), Position()
    fh = io.BytesIO(line(1))
    scan(fh, pos, b)
    fh = io.BytesIO(line(1) + line(2, delta=10))
    scan(fh, pos, b)
    assert pos.lines == 2 and b.balances["a"] == Decimal(11)


def test_limit_stops_reading_at_that_byte() -> None:
    """With `limit`, nothing after that byte is read."""
    data = line(1) + line(2)
    b, pos = book(), Position()
    scan(io.BytesIO(data), pos, b, limit=len(line(1)))
    assert pos.lines == 1


def test_crc_of_a_range_is_the_zlib_crc() -> None:
    """crc_of covers exactly the bytes [start, end), read in chunks."""
    data = bytes(range(256)) * 10
    assert crc_of(io.BytesIO(data), 5, 2000, chunk=64) == zlib.crc32(data[5:2000])
