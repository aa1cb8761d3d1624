"""Ledger snapshot parsing and reconciliation (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from daemon.sources.ledger_snapshot import SnapshotError, parse_snapshot, reconcile


def test_balances_object_is_the_mapping() -> None:
    """With a `balances` object, that object is the mapping."""
    snap = parse_snapshot(b'{"balances": {"a": 1.5}, "event_count": 7, "updated": "x"}')
    assert snap.balances == {"a": Decimal("1.5")} and snap.event_count == 7


def test_plain_object_is_the_mapping() -> None:
    """Without `balances`, the object itself (minus event_count) is the mapping."""
    snap = parse_snapshot(b'{"a": 1, "b": "2.25", "event_count": 3}')
    assert snap.balances == {"a": 1, "b": Decimal("2.25")} and snap.event_count == 3


def test_non_finite_balances_are_listed() -> None:
    """NaN / Infinity balances are set apart, not parsed as numbers."""
    assert parse_snapshot(b'{"a": NaN, "b": -Infinity, "c": 1}').non_finite == ["a", "b"]


@pytest.mark.parametrize("data", [
    b"", b"[1]", b"nope", b'{"a": "x"}', b'{"a": null}', b'{"a": true}',
    b'{"a": 1, "event_count": -1}', b'{"a": 1, "event_count": 1.5}', b"\xff\xfe",
])
def test_bad_snapshots_raise(data: bytes) -> None:
    """Anything but a JSON object of numbers is a SnapshotError."""
    with pytest.raises(SnapshotError):
        parse_snapshot(data)


def test_float_noise_is_within_tolerance() -> None:
    """A float-summed 0.30000000000000004 matches an exact 0.3."""
    snap = parse_snapshot(b'{"a": 0.30000000000000004}')
    assert reconcile({"a": Decimal("0.3")}, snap, 0.000001) == []


def test_difference_beyond_tolerance_is_drift() -> None:
    """An account off by more than the tolerance is reported with both figures."""
    [drift] = reconcile({"a": Decimal("10"), "b": 2}, parse_snapshot(b'{"a": 10, "b": 2.5}'),
                        0.000001)
    assert (drift.account, drift.expected, drift.actual) == ("b", 2, Decimal("2.5"))


def test_account_missing_on_either_side_counts_as_zero() -> None:
    """Accounts absent from one side compare against zero."""
    found = reconcile({"a": 0, "b": 5}, parse_snapshot(b'{"c": 0}'), 0.0)
    assert [d.account for d in found] == ["b"]
