"""The compact key store: duplicates found across and within batches, 8 bytes per key."""

from __future__ import annotations

import pytest

from daemon.sources.journal_keys import KeyTable, key_hash


def test_duplicates_within_a_batch_are_reported_after_the_first() -> None:
    """Only the second and later occurrences in one batch are duplicates."""
    assert KeyTable().add_many([5, 7, 5, 9, 5]) == [2, 4]


def test_duplicates_across_batches_are_reported() -> None:
    """A hash seen in an earlier batch is a duplicate in a later one."""
    table = KeyTable()
    for start in range(0, 5000, 100):
        assert table.add_many(list(range(start + 1, start + 101))) == []
    assert table.add_many([4242, 999_999]) == [0]
    assert table.count == 5001


def test_membership_after_many_merges() -> None:
    """Every inserted hash is still found after level merges."""
    table = KeyTable()
    for start in range(0, 10_000, 37):
        table.add_many([key_hash(str(i).encode()) for i in range(start, start + 37)])
    assert all(key_hash(str(i).encode()) in table for i in range(0, 10_000, 97))
    assert key_hash(b"never") not in table


def test_memory_is_eight_bytes_per_key() -> None:
    """100,000 keys take 800,000 bytes."""
    table = KeyTable()
    for start in range(0, 100_000, 4096):
        table.add_many([key_hash(f"k{i}".encode()) for i in range(start, min(start + 4096,
                                                                              100_000))])
    assert table.nbytes == 8 * 100_000


def test_round_trip_through_bytes() -> None:
    """A saved table loads with the same members."""
    table = KeyTable()
    table.add_many([3, 1, 2])
    table.add_many([10])
    again = KeyTable.from_bytes(table.to_bytes())
    assert again.count == 4 and again.add_many([2, 11]) == [0]


@pytest.mark.parametrize("data", [b"123", (2).to_bytes(8, "little") + (1).to_bytes(8, "little")])
def test_damaged_bytes_are_refused(data: bytes) -> None:
    """A truncated or unsorted table raises ValueError."""
    with pytest.raises(ValueError, match="key table"):
        KeyTable.from_bytes(data)
