"""The replay's fast paths agree exactly with the one-event-at-a-time definitions."""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.sources.journal_book import EXACT, Book
from daemon.sources.journal_keys import KeyTable, hash_many, key_hash
from daemon.sources.journal_parse import Fields, Parser
from tests.journal.conftest import drained


def book(**fields: str) -> Book:
    names = {"account": "agent_id", "delta": "delta", "key": "idempotency_key",
             "correlation": "correlation_id", "type": "event_type", "sequence": "",
             "request": "request_id", **fields}
    return Book(Parser(Fields(**names)), "j", max_line=4096, request_type="approval.requested",
                decision_types=["approval.approved", "approval.rejected"])


def line(i: int, account: str, delta: str, **extra: Any) -> bytes:
    obj = {"agent_id": account, "delta": "@", "idempotency_key": f"k{i}",
           "correlation_id": "c", **extra}
    return json.dumps(obj).replace('"@"', delta).encode()


def exact_sums(items: list[tuple[str, str]]) -> dict[str, Decimal]:
    out: dict[str, Any] = {}
    with decimal.localcontext(EXACT):
        for account, delta in items:
            out[account] = out.get(account, 0) + Decimal(delta)
    return out


deltas = st.one_of(
    st.integers(-10**17, 10**17).map(str),
    st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False).map(str),
    st.sampled_from(["0", "-0", "0.00", "-0.0", "1.50", "0.1", "1e3", "2.5E-3",
                     "123456789012345678", "0.000000000000000001"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), deltas), min_size=1, max_size=40),
       st.integers(1, 5))
def test_balances_match_decimal_addition_event_by_event(items: list[tuple[str, str]],
                                                        batches: int) -> None:
    """Value and exponent (its text) equal adding each delta as a Decimal, in any batching."""
    b = book()
    lines = [line(i, a, d) for i, (a, d) in enumerate(items)]
    step = -(-len(lines) // batches)
    for start in range(0, len(lines), step):
        chunk = lines[start:start + step]
        b.feed_body(b"\n".join(chunk), start + 1, 0)
    want = exact_sums(items)
    assert {a: str(v) for a, v in b.balances.items()} == {a: str(v) for a, v in want.items()}
    assert list(b.balances) == list(want)  # first-appearance order


def test_history_keeps_exact_deltas_of_grouped_batches() -> None:
    """balances_at rolls back through deltas summed by the grouped path."""
    b = book()
    b.feed_body(b"\n".join(line(i, "a", d) for i, d in enumerate(["1.5", "2", "0.25"])), 1, 0)
    assert b.balances_at(1) == {"a": Decimal("1.5")} and str(b.balances["a"]) == "3.75"


def test_huge_balances_still_trap_inexact_sums() -> None:
    """A balance too wide for exact int64 grouping is summed event by event (and checked)."""
    b = book()
    b.feed_body(line(0, "a", "1e59"), 1, 0)
    b.feed_body(b"\n".join([line(1, "a", "0.5"), line(2, "a", "1")]), 2, 100)
    found = drained(b)  # 1e59 + 0.5 needs 61 digits
    assert [f.code for f in found] == ["journal.invalid_field"] and found[0].evidence["line"] == 2
    assert b.balances["a"] == Decimal(10**59 + 1)


def test_body_path_matches_the_line_path() -> None:
    """feed_body gives the same books, findings, lines and offsets as feed on split lines."""
    lines = [line(0, "a", "1.5"), b"", b"not json", line(1, "b", "2", correlation_id=""),
             line(1, "a", "NaN"), line(2, "a", "3", event_type="approval.approved",
                                             request_id="R"),
             line(3, "a", '"7"'), b'{"agent_id":"a"}', line(4, "c", "-0.25")]
    fast, slow = book(), book()
    assert fast.feed_body(b"\n".join(lines), 1, 10) == len(lines)
    slow.feed(lines, 1, 10)
    assert fast.balances == slow.balances and fast.counts == slow.counts
    assert fast.suspects == slow.suspects
    assert [(f.code, f.evidence) for f in drained(fast)] == [
        (f.code, f.evidence) for f in drained(slow)]


def test_strict_and_lenient_batches_agree() -> None:
    """A clean batch and the same batch with one event missing its correlation id."""
    clean = [line(i, "a", "1") for i in range(5)]
    mixed = [*clean, b'{"agent_id":"a","delta":1,"idempotency_key":"k9"}']
    for lines in (clean, mixed):
        fast, slow = book(), book()
        fast.feed_body(b"\n".join(lines), 1, 0)
        slow.feed(lines, 1, 0)
        assert fast.counts == slow.counts and fast.balances == slow.balances


def test_vectorised_hash_is_the_per_key_hash() -> None:
    """Mixed, equal and over-wide key lengths hash as each key alone does."""
    keys = [b'"a"', b'"abcdefgh"', b"12", b"x" * 300, b'"' + b"y" * 31 + b'"', b""]
    assert hash_many(keys).tolist() == [key_hash(k) for k in keys]
    same = [f'"k{i:07d}"'.encode() for i in range(50)]
    assert hash_many(same).tolist() == [key_hash(k) for k in same]
    assert len(set(hash_many(same).tolist())) == 50 and key_hash(b"ab") != key_hash(b"ab\0")


def test_filter_never_hides_a_duplicate() -> None:
    """Across filter rebuilds every earlier key is still found."""
    table = KeyTable()
    for start in range(0, 40_000, 1000):
        assert table.add_many(list(range(start + 1, start + 1001))) == []
    assert table.add_many([7, 39_999, 40_001, 7]) == [0, 1, 3]
    again = KeyTable.from_bytes(table.to_bytes())
    assert again.add_many([123, 99_999]) == [0]


def test_body_whose_values_are_not_its_lines_is_read_line_by_line() -> None:
    """Two objects on a line plus a blank line (or one object over two lines) are corrupt
    lines, not events, even when the count of values matches the count of lines."""
    cases = [[b'{"agent_id":"a","delta":1} {"agent_id":"a","delta":2}', b""],
             [b'{"agent_id":"a","delta":', b'1} {"agent_id":"b","delta":2}'],
             [line(0, "a", "1"), b" " + line(1, "a", "2"), line(2, "a", "3") + b"\r"]]
    for lines in cases:
        fast, slow = book(), book()
        fast.feed_body(b"\n".join(lines), 1, 0)
        slow.feed(lines, 1, 0)
        assert fast.counts == slow.counts and fast.balances == slow.balances
        assert [f.evidence for f in drained(fast)] == [f.evidence for f in drained(slow)]


def test_many_new_accounts_keep_first_appearance_order() -> None:
    """Thousands of accounts first seen in one batch: balances in file order."""
    b = book()
    names = [f"acc{(i * 7919) % 5000}" for i in range(5000)]
    b.feed_body(b"\n".join(line(i, a, "1") for i, a in enumerate(names)), 1, 0)
    assert list(b.balances) == names
