"""The compact key store: duplicates found across and within batches, 8 bytes per key."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.sources.journal_keys import KeyTable, hash_lines, key_hash


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


@pytest.mark.parametrize("keys", [
    [b'"k1"'], [b'"k1"', b'"k2"', b'"k3"'], [b'"idem-000001-ab"'] * 3,
    [b'"a"', b'"bbbbbbbbbbbbb"', b"7", b'{"x": [1, 2]}', b'"' + b"z" * 300 + b'"'],
    [b'"' + b"y" * 300 + b'"', b'"' + b"w" * 300 + b'"']])
def test_hashes_of_newline_joined_keys_are_key_hash(keys: list[bytes]) -> None:
    """hash_lines (keys joined by '\\n', of one length or of many) is key_hash of each."""
    assert hash_lines(b"\n".join(keys), len(keys)).tolist() == [key_hash(k) for k in keys]


def test_a_sorted_level_meets_the_table_only_when_they_share_a_hash() -> None:
    """meets: a merged half's sorted level against every level of the table."""
    table = KeyTable()
    table.add_many([10, 30, 50])
    table.add_many([70])
    assert not table.meets(np.array([1, 20, 40, 60, 80], dtype=np.uint64))
    assert table.meets(np.array([1, 70], dtype=np.uint64))
    assert table.meets(np.array([30], dtype=np.uint64))
    assert not KeyTable().meets(np.array([30], dtype=np.uint64))
