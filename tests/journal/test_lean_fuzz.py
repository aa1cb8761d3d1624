"""The lean pass on generated journals: what the exact path reports and keeps, exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.sources import journal_lean as lean
from daemon.sources import journal_split as split
from daemon.sources.journal_book import Book
from daemon.sources.journal_parse import Fields, Parser
from daemon.sources.journal_scan import Position, scan


def exact_and_lean(data: bytes, chunk: int, tmp: Path) -> list[dict[str, Any]]:
    """The books after an exact replay, a lean one (batches of `chunk` bytes) and one in
    pieces on two cores."""
    path = tmp / "journal.jsonl"
    path.write_bytes(data)
    out = []
    def in_pieces(fh: Any, pos: Position, b: Book) -> None:
        split.replay(fh, pos, b, fuzz_book(), len(data))  # MIN_BYTES 0: on two cores
        scan(fh, pos, b)

    for read in (lambda fh, pos, b: scan(fh, pos, b),
                 lambda fh, pos, b: split.read(fh, pos, b, len(data)), in_pieces):
        b, pos = fuzz_book(), Position()
        with path.open("rb") as fh:
            read(fh, pos, b)
        out.append({"counts": dict(b.counts), "keys": b.key_count, "pos": pos,
                    "balances": [(a, str(v)) for a, v in b.balances.items()],
                    # sorted: within a batch the exact path reports corrupt lines (while
                    # decoding) before the field findings of the lines around them
                    "suspects": b.suspects, "findings": sorted(map(repr, b.drain())),
                    "at": [b.balances_at(n) for n in range(b.counts["events"] + 1)]})
    return out


def fuzz_book() -> Book:
    parser = Parser(Fields("agent_id", "delta", "idempotency_key", "correlation_id",
                           "event_type", "", "request_id"))
    return Book(parser, "j", max_line=512, request_type="approval.requested",
                decision_types=["approval.approved"])


generated_event = st.fixed_dictionaries({
    "agent_id": st.sampled_from(["a", "b", "c", "d", 7, True]),
    "delta": st.one_of(st.integers(-10**6, 10**6), st.sampled_from(
        [1.5, "2.25", "1e3", "-0.001", "x", None, 99999999999999999.9])),
    "idempotency_key": st.one_of(st.integers(0, 60).map(lambda i: f"k{i}"), st.just(5)),
    "correlation_id": st.sampled_from(["c", "c2", ""]),
    "event_type": st.sampled_from(["credit.granted"] * 6 + ["approval.requested",
                                                             "approval.approved"]),
    "request_id": st.sampled_from(["r1", "r2"]),
}).map(lambda e: json.dumps(e).encode())
generated_line = st.one_of(
    generated_event, generated_event, generated_event, generated_event,
    st.binary(max_size=40).filter(lambda b: b"\n" not in b),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2).map(
        lambda d: json.dumps(d).encode()))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(lines=st.lists(generated_line, max_size=80), tail=st.binary(max_size=12),
       chunk=st.integers(48, 900))
def test_generated_journals_replay_the_same(lines: list[bytes], tail: bytes, chunk: int,
                                            tmp_path: Path) -> None:
    """Events, corrupt lines, repeated keys, approvals and a torn tail, in batches of any
    size: the lean pass changes nothing the exact path would report or keep."""
    data = b"".join(line + b"\n" for line in lines) + tail.replace(b"\n", b"")
    before = lean.CHUNK, split.MIN_BYTES
    lean.CHUNK, split.MIN_BYTES = chunk, 0
    try:
        exact, fast, two = exact_and_lean(data, chunk, tmp_path)
    finally:
        lean.CHUNK, split.MIN_BYTES = before
    assert fast == exact
    assert two == exact
