"""The system's own balance snapshot (SPEC §2), parsed and reconciled (pure).

A snapshot is a JSON object; its `balances` object is the mapping when present, else the object
itself (minus `event_count`). `event_count`, when given, says after how many journal events the
snapshot was taken. Values are read exactly (Decimal from the number's text); numeric strings
are accepted; NaN/Infinity values are reported as non-finite balances.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

WIDE = decimal.Context(prec=120, Emax=999_999_999, Emin=-999_999_999, traps=[])


class SnapshotError(ValueError):
    """The snapshot is not a JSON object of balances."""


@dataclass
class Snapshot:
    balances: dict[str, Decimal]
    event_count: int | None = None
    non_finite: list[str] = field(default_factory=list)


def parse_snapshot(data: bytes) -> Snapshot:
    """Parse snapshot bytes; raises SnapshotError naming what is wrong."""
    try:
        obj = json.loads(data.decode("utf-8"), parse_float=Decimal, parse_int=Decimal,
                         parse_constant=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SnapshotError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(obj, dict):
        raise SnapshotError(f"a JSON {type(obj).__name__}, not an object")
    count = _event_count(obj.get("event_count"))
    mapping = obj.get("balances") if isinstance(obj.get("balances"), dict) else {
        k: v for k, v in obj.items() if k != "event_count"}
    snap = Snapshot({}, count)
    for account, value in mapping.items():
        number = _value(account, value)
        if number.is_finite():
            snap.balances[account] = number
        else:
            snap.non_finite.append(account)
    return snap


def _event_count(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, Decimal) or value != value.to_integral_value() or value < 0:
        raise SnapshotError(f"event_count is not a non-negative integer: {value!r}")
    return int(value)


def _value(account: str, value: Any) -> Decimal:
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except decimal.InvalidOperation:
            pass
    elif isinstance(value, Decimal):
        return value
    raise SnapshotError(f"balance of {account!r} is not a number: {value!r}"[:160])


@dataclass(frozen=True)
class Drift:
    account: str
    expected: Decimal
    actual: Decimal
    difference: Decimal


def reconcile(expected: dict[Any, Any], snap: Snapshot, tolerance: float) -> list[Drift]:
    """Accounts whose snapshot balance differs from `expected` by more than `tolerance`."""
    return compare(by_text(expected), snap, tolerance)


def by_text(expected: dict[Any, Any]) -> dict[str, Decimal]:
    """Balances keyed by the account's text, as a snapshot names them (a copy)."""
    return {str(acc): Decimal(v) for acc, v in expected.items()}


def compare(replay: Mapping[str, Decimal], snap: Snapshot, tolerance: float) -> list[Drift]:
    """`reconcile` of balances already keyed by text."""
    tol = Decimal(repr(tolerance))
    out = []
    with decimal.localcontext(WIDE):
        for account in sorted(set(replay) | set(snap.balances)):
            if account in snap.non_finite:
                continue
            want, got = replay.get(account, Decimal(0)), snap.balances.get(account, Decimal(0))
            diff = got - want
            if abs(diff) > tol:
                out.append(Drift(account, want, got, diff))
    return out
