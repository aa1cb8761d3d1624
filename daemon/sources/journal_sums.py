"""Exact balance sums of clean batches, without one Decimal addition per event.

A JSON number without an exponent is an integer scaled by 10**-f (f = its fraction digits).
Clean batches are added per account into int64 sums at a common scale (numpy), with each
account's largest f; `fold` then adds one Decimal per account to the balances: the very value
and exponent that adding the deltas one by one as Decimals gives. A batch with an exponent, a
number of more than 18 characters, or a sum that could leave int64 is refused (the caller
adds its Decimals one by one).
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

import numpy as np

from daemon.sources.journal_parse import PLAIN

MAX_CHARS = 18  # so at most 18 digits: below 10**18 < 2**63
_POW = np.array([10**i for i in range(MAX_CHARS + 1)], dtype=np.int64)
_POWF = _POW.astype(np.float64)  # exact: 10**18 = 2**18 * 5**18 and 5**18 < 2**53
_LIMIT = float(2**62)


class Sums:
    """Pending per-account sums: `acc[i]` at 10**-scale, `places[i]` (-1: none pending)."""

    __slots__ = ("acc", "bound", "ids", "names", "pending", "places", "scale")

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.names: list[Any] = []
        self.acc = np.zeros(0, np.int64)
        self.places = np.zeros(0, np.int64)
        self.scale = 0
        self.bound = 0.0  # >= the sum of |acc|, so int64 never overflows
        self.pending = False

    def add(self, accounts: list[Any], joined: bytes) -> bool:
        """Add a batch (`joined` = its deltas joined by ','); False when refused (unchanged)."""
        parsed = _scaled(joined, len(accounts))
        if parsed is None:
            return False
        ints, frac = parsed
        top = max(self.scale, int(frac.max()))
        shift = top - frac
        weight = float((np.abs(ints) * _POWF[shift]).sum())
        if self.bound * _POWF[top - self.scale] + weight >= _LIMIT:
            return False
        self._rescale(top)
        ids = self._ids(accounts)
        np.add.at(self.acc, ids, ints * _POW[shift])
        np.maximum.at(self.places, ids, frac)
        self.bound += weight
        self.pending = True
        return True

    def fold(self, balances: dict[Any, Any], context: decimal.Context) -> None:
        """Add the pending sums to `balances` (in account order) and clear them."""
        if not self.pending:
            return
        touched = np.flatnonzero(self.places >= 0)
        names, top, get = self.names, self.scale, balances.get
        with decimal.localcontext(context):
            for i, q, p in zip(touched.tolist(), self.acc[touched].tolist(),
                               self.places[touched].tolist(), strict=True):
                balances[names[i]] = get(names[i], 0) + Decimal(q // 10 ** (top - p)).scaleb(-p)
        self.clear()

    def clear(self) -> None:
        self.acc[:] = 0
        self.places[:] = -1
        self.scale, self.bound, self.pending = 0, 0.0, False

    def _rescale(self, top: int) -> None:
        if top > self.scale:
            self.acc *= _POW[top - self.scale]
            self.bound *= _POWF[top - self.scale]
            self.scale = top

    def _ids(self, accounts: list[Any]) -> np.ndarray:
        ids = self.ids
        try:  # the common case: every account known (no set of the batch built)
            return np.fromiter(map(ids.__getitem__, accounts), np.int64, count=len(accounts))
        except KeyError:
            pass
        for acc in dict.fromkeys(accounts):  # numbered in order of first appearance
            if acc not in ids:
                ids[acc] = len(self.names)
                self.names.append(acc)
        grow = len(self.names) - len(self.acc)
        self.acc = np.concatenate((self.acc, np.zeros(grow, np.int64)))
        self.places = np.concatenate((self.places, np.full(grow, -1, np.int64)))
        return np.fromiter(map(ids.__getitem__, accounts), np.int64, count=len(accounts))


def _scaled(joined: bytes, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The deltas as (digits as integers, fraction digits), or None when not plain/short."""
    if joined.translate(None, PLAIN):
        return None
    text = np.frombuffer(joined, np.uint8)
    ends = np.append(np.flatnonzero(text == 44), len(text))
    if len(ends) != n or int(np.diff(ends, prepend=-1).max()) > MAX_CHARS + 1:
        return None
    dots = np.flatnonzero(text == 46)
    if len(dots) == n:  # each number has its fraction: its dot is the one before its end
        frac = ends - dots - 1
    else:
        at = np.searchsorted(ends, dots)
        frac = np.zeros(n, np.int64)
        frac[at] = ends[at] - dots - 1
    ints = np.fromstring(joined.replace(b".", b""), dtype=np.int64, sep=",")
    return (ints, frac) if len(ints) == n else None
