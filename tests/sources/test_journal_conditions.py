"""daemon/sources/journal_conditions.py: findings about the journal as a whole (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from daemon.sources.journal_conditions import (
    mismatch,
    missing_correlation,
    negative_balances,
    rewritten,
    torn_tail,
    unavailable,
)

from .journal_support import book


def _fed(*deltas: object) -> object:
    b = book()
    lines = [f'{{"agent_id":"a","delta":{d},"correlation_id":"c"}}'.encode() for d in deltas]
    b.feed(lines, 1, 0)
    b.drain()
    return b


def test_negative_balance_is_a_finding_per_account() -> None:
    """An account below zero is ledger.negative_balance with its exact balance."""
    [found] = negative_balances(_fed("-1.5"), allow_negative=False)
    assert (found.code, found.subject, found.evidence["balance"]) == (
        "ledger.negative_balance", "a", "-1.5")


def test_negative_balance_allowed_by_config() -> None:
    """With negative balances allowed, none is reported."""
    assert negative_balances(_fed("-1.5"), allow_negative=True) == []


def test_events_without_correlation_are_counted_once() -> None:
    """Events missing the correlation field give one finding with their count."""
    b = book()
    b.feed([b'{"agent_id":"a","delta":1}', b'{"agent_id":"a","delta":2}'], 1, 0)
    b.drain()
    [found] = missing_correlation(b, "j.jsonl", "correlation_id")
    assert found.code == "journal.missing_correlation_id" and found.evidence["count"] == 2


@pytest.mark.parametrize(("size", "age_s", "codes"), [
    (0, 999.0, []), (10, 5.0, []), (10, 31.0, ["journal.torn_tail"])])
def test_torn_tail_only_after_the_grace(size: int, age_s: float, codes: list[str]) -> None:
    """An unterminated last line is torn only when it outlives the grace period."""
    assert [f.code for f in torn_tail("j.jsonl", 100, size, age_s, grace_s=30.0)] == codes


def test_unavailable_names_the_reason() -> None:
    """An unreadable journal is source.unavailable with the system's reason."""
    found = unavailable("j.jsonl", PermissionError(13, "Permission denied"))
    assert (found.code, found.evidence["error"]) == ("source.unavailable", "Permission denied")


def test_rewritten_carries_its_evidence() -> None:
    """A rewritten journal finding keeps the reason and the extra evidence."""
    found = rewritten("j.jsonl", "shrank", size=3)
    assert found.code == "journal.rewritten" and found.evidence == {"reason": "shrank", "size": 3}


def test_equal_books_do_not_mismatch() -> None:
    """Two replays of the same lines agree: no replay mismatch."""
    assert mismatch(_fed(1, 2), _fed(1, 2), "j.jsonl", 10) is None


def test_differing_books_name_the_accounts() -> None:
    """A balance that differs between replays is journal.replay_mismatch naming the account."""
    found = mismatch(_fed(1, 2), _fed(1, 5), "j.jsonl", 10)
    assert found is not None and found.code == "journal.replay_mismatch"
    assert found.evidence["accounts"] == {"a": [str(Decimal(3)), str(Decimal(6))]}
