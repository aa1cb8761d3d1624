"""The replayed books: exact sums, counters and the event findings of lines."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from daemon.model import Severity
from daemon.sources.journal_book import Book
from daemon.sources.journal_parse import Fields, Parser
from tests.journal.conftest import drained


def book(sequence: str = "", max_line: int = 1 << 20) -> Book:
    parser = Parser(Fields("agent_id", "delta", "idempotency_key", "correlation_id",
                           "event_type", sequence, "request_id"))
    return Book(parser, "j.jsonl", max_line=max_line, request_type="approval.requested",
                decision_types=["approval.approved", "approval.rejected"])


def feed(b: Book, *items: Any) -> list[Any]:
    lines = [i if isinstance(i, bytes) else json.dumps(i).encode() for i in items]
    b.feed(lines, 1, 0)
    return drained(b)


def ev(key: str, account: str = "a", delta: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"agent_id": account, "delta": delta, "idempotency_key": key, "correlation_id": key,
            **extra}


def test_sums_are_exact() -> None:
    """0.1 + 0.2 is exactly 0.3, however many times it is added."""
    b = book()
    feed(b, *(b'{"agent_id":"a","delta":0.1,"correlation_id":"c"}' for _ in range(1000)))
    feed(b, b'{"agent_id":"a","delta":0.2,"correlation_id":"c"}')
    assert b.balances["a"] == Decimal("100.2")


def test_duplicate_event_counts_twice_and_is_suspect() -> None:
    """A repeated key is applied again and kept as a suspect for the exact re-check."""
    b = book()
    feed(b, ev("k1", delta=5), ev("k1", delta=5))
    assert b.balances["a"] == 10 and [s[:2] for s in b.suspects] == [(b'"k1"', 2)]


def test_non_finite_delta_is_reported_not_applied() -> None:
    """NaN is a CRITICAL ledger.non_finite event and the balance is unchanged."""
    b = book()
    found = feed(b, ev("k1", delta=2), b'{"agent_id":"a","delta":NaN,"idempotency_key":"k2"}')
    assert [(f.code, f.severity) for f in found] == [("ledger.non_finite", Severity.CRITICAL)]
    assert b.balances["a"] == 2 and found[0].evidence["line"] == 2


def test_string_delta_that_is_not_a_decimal_is_invalid_field() -> None:
    """A string delta is summed when it holds a finite decimal; otherwise it is
    journal.invalid_field and not applied."""
    b = book()
    found = feed(b, ev("k1", delta="5.50"), ev("k2", delta="five"))
    assert [f.code for f in found] == ["journal.invalid_field"]
    assert b.balances == {"a": Decimal("5.50")} and found[0].evidence["line"] == 2
    assert b.counts["events"] == 2


def test_corrupt_line_has_line_and_offset() -> None:
    """A corrupt line's evidence names its line number and byte offset; reading goes on."""
    b = book()
    found = feed(b, ev("k1"), b"[1]", ev("k2"))
    assert found[0].evidence["line"] == 2 and found[0].evidence["offset"] == len(
        json.dumps(ev("k1"))) + 1
    assert b.counts["events"] == 2 and found[0].subject == "j.jsonl:2"


def test_oversized_line_is_skipped() -> None:
    """A line over max_line is reported and not applied."""
    b = book(max_line=100)
    found = feed(b, ev("k1", note="x" * 200), ev("k2"))
    assert [f.code for f in found] == ["journal.oversized_line"] and b.balances["a"] == 1


def test_sequence_gap() -> None:
    """A sequence that does not advance by exactly 1 is a gap."""
    b = book(sequence="seq")
    found = feed(b, ev("k1", seq=1), ev("k2", seq=2), ev("k3", seq=4), ev("k4", seq=5))
    assert [(f.code, f.evidence["sequence"]) for f in found] == [("journal.sequence_gap", 4)]


def test_approval_race_and_orphan() -> None:
    """Two decisions for one request race; a decision without a request is an orphan."""
    b = book()
    found = feed(b, ev("r1", event_type="approval.requested", request_id="R"),
                 ev("d1", event_type="approval.approved", request_id="R"),
                 ev("d2", event_type="approval.rejected", request_id="R"),
                 ev("d3", event_type="approval.approved", request_id="X"))
    assert [f.code for f in found] == ["ledger.approval_race", "ledger.orphan_decision"]


def test_missing_correlation_is_counted() -> None:
    """Events without (or with an empty) correlation id are counted."""
    b = book()
    feed(b, {"agent_id": "a", "delta": 1}, {"correlation_id": ""}, {"correlation_id": "c"})
    assert b.counts["missing_correlation"] == 2


def test_balances_at_rolls_back_recent_events() -> None:
    """Balances after N events are recovered from the recent history."""
    b = book()
    feed(b, ev("k1", delta=1), b"[]", ev("k2", delta=10), ev("k3", account="b", delta=100))
    assert b.balances_at(1) == {"a": 1, "b": 0} and b.balances_at(3) == b.balances
    assert b.balances_at(4) is None


def test_findings_per_drain_are_bounded() -> None:
    """A flood of corrupt lines keeps at most MAX_NEW findings and counts the rest."""
    b = book()
    found = feed(b, *([b"garbage"] * 600))
    assert len(found) == 500 and b.dropped == 100 and b.counts["corrupt_lines"] == 600


def test_clean_batch_path_matches_the_general_loop() -> None:
    """The vectorized path for clean batches gives the same books as the general loop."""
    items = [ev(f"k{i % 40}", account=f"a{i % 3}", delta=f"{i}.5", event_type=t, request_id="R")
             for i, t in enumerate(["approval.requested", "approval.approved", "x", "y"] * 20)]
    lines = [json.dumps(i).replace('"delta": "', '"delta": ').replace('.5"', ".5").encode()
             for i in items]
    fast, slow = book(), book()
    fast.feed(lines, 1, 0)
    slow._apply([slow.parser.decode(line) for line in lines], 1, 0, lines)
    assert fast.balances == slow.balances and fast.counts["events"] == slow.counts["events"]
    assert fast.suspects == slow.suspects and len(fast.suspects) == 40
    assert [f.subject for f in drained(fast)] == [f.subject for f in drained(slow)]
