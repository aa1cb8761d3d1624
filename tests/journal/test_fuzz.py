"""Generated lines never crash the reader, and valid events never raise a CRITICAL."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.model import Severity
from daemon.sources.journal_book import Book
from daemon.sources.journal_parse import Fields, Parser
from tests.journal.conftest import drained


def book() -> Book:
    parser = Parser(Fields("agent_id", "delta", "idempotency_key", "correlation_id",
                           "event_type", "seq", "request_id"))
    return Book(parser, "j", max_line=512, request_type="approval.requested",
                decision_types=["approval.approved", "approval.rejected"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=80).filter(lambda b: b"\n" not in b), max_size=20))
def test_arbitrary_bytes_never_crash(lines: list[bytes]) -> None:
    """Any bytes are either events or findings; every line is counted."""
    b = book()
    b.feed(lines, 1, 0)
    drained(b)
    assert b.counts["lines"] == len(lines)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(
    ["agent_id", "delta", "idempotency_key", "correlation_id", "event_type", "x"]),
    json_values, max_size=6), max_size=20))
def test_arbitrary_objects_never_crash(objs: list[dict[str, Any]]) -> None:
    """Any JSON objects (with fields of any type) are events, never corrupt lines."""
    b = book()
    b.feed([json.dumps(o).encode() for o in objs], 1, 0)
    found = drained(b)
    assert b.counts["events"] == len(objs) - b.counts["oversized_lines"]
    assert "journal.corrupt_line" not in {f.code for f in found}


valid_event = st.fixed_dictionaries({
    "agent_id": st.text(min_size=1, max_size=6),
    "delta": st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False).map(str),
    "idempotency_key": st.uuids().map(str),
    "correlation_id": st.text(min_size=1, max_size=6),
    "event_type": st.sampled_from(["credit.granted", "credit.used"]),
})


@settings(max_examples=100, deadline=None)
@given(st.lists(valid_event, max_size=30))
def test_valid_events_never_raise_critical(events: list[dict[str, Any]]) -> None:
    """Well-formed events with unique keys and non-negative deltas raise no CRITICAL."""
    b = book()
    lines = [json.dumps(e).replace(f'"{e["delta"]}"', e["delta"]).encode() for e in events]
    b.feed(lines, 1, 0)
    assert all(f.severity < Severity.CRITICAL for f in drained(b))
    assert b.suspects == []
