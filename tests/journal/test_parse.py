"""Line parsing: the fast and slow paths agree, bad lines are classified (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from msgspec import UNSET, Raw

from daemon.sources.journal_parse import (
    FAST_ERRORS,
    INVALID,
    NON_FINITE,
    Corrupt,
    Fields,
    Parser,
    parse_object,
    raw_number,
)

DEFAULT = Fields("agent_id", "delta", "idempotency_key", "correlation_id", "event_type", "",
                 "request_id")


def view(line: bytes, fields: Fields = DEFAULT):
    """Decode like the book does: fast path, else slow path."""
    parser = Parser(fields)
    try:
        ev = parser.decode(line)
    except FAST_ERRORS:
        return parser.slow(line)
    if isinstance(ev.d, Raw):
        ev.d = raw_number(ev.d)
    return ev


@pytest.mark.parametrize(("line", "delta"), [
    (b'{"agent_id":"a","delta":12.50}', Decimal("12.50")),
    (b'{"agent_id":"a","delta":-3}', Decimal(-3)),
    (b'{"agent_id":"a","delta":0.1000000000000000000000000001}',
     Decimal("0.1000000000000000000000000001")),
    (b'{"agent_id":"a","delta":1e-7}', Decimal("1e-7")),
    (b'{"agent_id":"a","delta":NaN}', NON_FINITE),
    (b'{"agent_id":"a","delta":Infinity}', NON_FINITE),
    (b'{"agent_id":"a","delta":-Infinity}', NON_FINITE),
    (b'{"agent_id":"a","delta":"5"}', Decimal(5)),
    (b'{"agent_id":"a","delta":"10.50"}', Decimal("10.50")),
    (b'{"agent_id":"a","delta":"1 0"}', INVALID),
    (b'{"agent_id":"a","delta" : "NaN"}', INVALID),
    (b'{"agent_id":"a","delta":true}', INVALID),
    (b'{"agent_id":"a","delta":null}', INVALID),
    (b'{"agent_id":"a"}', UNSET),
])
def test_delta_is_exact_or_classified(line: bytes, delta: object) -> None:
    """A delta is read exactly from its text, or marked non-finite / invalid / absent."""
    assert view(line).d == delta if isinstance(delta, Decimal) else view(line).d is delta


@pytest.mark.parametrize(("line", "reason"), [
    (b"[1, 2]", "a JSON list"),
    (b'"just a string"', "a JSON str"),
    (b"42", "a JSON int"),
    (b"", "not JSON"),
    (b'{"agent_id": "a", ', "not JSON"),
    (b"\x00\x00\x00\x00", "NUL bytes"),
    (b'{"agent_id": "\xff"}', "invalid UTF-8"),
    (b"[" * 5000 + b"]" * 5000, "nested deeper than"),
])
def test_non_objects_are_corrupt(line: bytes, reason: str) -> None:
    """Lines that are not one JSON object raise Corrupt with a reason."""
    with pytest.raises(Corrupt, match=reason):
        parse_object(line)


def test_account_of_wrong_type_is_invalid() -> None:
    """An account that is not a string or integer is marked invalid."""
    assert view(b'{"agent_id": [1], "delta": 1}').a is INVALID


def test_key_is_kept_as_raw_text() -> None:
    """The idempotency key is its raw JSON text on both paths."""
    fast = view(b'{"idempotency_key":"k-1","delta":1}')
    slow = view(b'{"idempotency_key":"k-1","delta":NaN}')
    assert bytes(fast.k) == bytes(slow.k) == b'"k-1"'
    assert isinstance(fast.k, Raw)


def test_dotted_paths_read_nested_fields() -> None:
    """Dotted field names address nested objects."""
    fields = Fields("meta.agent", "amount.value", "meta.key", "", "kind", "meta.seq", "")
    ev = view(b'{"meta":{"agent":"z","key":"q","seq":4},"amount":{"value":2.5}}', fields)
    assert (ev.a, ev.d, bytes(ev.k), ev.s) == ("z", Decimal("2.5"), b'"q"', 4)


def test_dotted_path_through_a_non_object_is_absent() -> None:
    """A nested path through a scalar is simply absent."""
    fields = Fields("meta.agent", "delta", "", "", "", "", "")
    assert view(b'{"meta": 3, "delta": 1}', fields).a is UNSET
