"""daemon/sources/journal_sums.py: exact vectorised sums of a batch of deltas."""

from __future__ import annotations

import decimal
from decimal import Decimal

from daemon.sources.journal_sums import Sums


def test_sums_fold_exactly_into_balances() -> None:
    """0.1 added ten times folds into exactly 1.0, per account."""
    sums = Sums()
    assert sums.add(["a"] * 10 + ["b"], b",".join([b"0.1"] * 10 + [b"2"]))
    balances: dict[object, Decimal] = {}
    sums.fold(balances, decimal.Context(prec=60))
    assert balances == {"a": Decimal("1.0"), "b": Decimal(2)}


def test_batch_it_cannot_sum_exactly_is_refused() -> None:
    """Deltas that are not plain decimals are refused (the book then adds them one by one)."""
    assert not Sums().add(["a", "b"], b"1e400,NaN")
