"""Findings about the journal as a whole, built from a Book and the file (pure helpers)."""

from __future__ import annotations

from typing import Any

from daemon.model import Finding, finding
from daemon.sources.journal_book import COUNTERS, Book
from daemon.sources.ledger_snapshot import Drift


def negative_balances(book: Book, allow_negative: bool) -> list[Finding]:
    if allow_negative:
        return []
    return [finding("ledger.negative_balance", str(acc), f"account {acc} balance is {bal}",
                    {"account": str(acc), "balance": str(bal)})
            for acc, bal in book.balances.items() if bal < 0]


def missing_correlation(book: Book, rel: str, field: str) -> list[Finding]:
    count = book.counts["missing_correlation"]
    if not count:
        return []
    return [finding("journal.missing_correlation_id", rel,
                    f"{count} events without {field}", {"count": count, "field": field})]


def torn_tail(rel: str, offset: int, size: int, age_s: float, grace_s: float) -> list[Finding]:
    if size <= 0 or age_s <= grace_s:
        return []
    return [finding("journal.torn_tail", rel,
                    f"unterminated last line ({size} bytes) unchanged for {age_s:.0f}s",
                    {"offset": offset, "bytes": size, "age_s": round(age_s, 1)})]


def drifts(found: list[Drift], snapshot: str, event_count: int | None) -> list[Finding]:
    return [finding("ledger.drift", d.account,
                    f"snapshot says {d.actual}, replay says {d.expected} (diff {d.difference})",
                    {"account": d.account, "expected": str(d.expected), "actual": str(d.actual),
                     "difference": str(d.difference), "snapshot": snapshot,
                     "event_count": event_count})
            for d in found]


def unavailable(rel: str, exc: OSError) -> Finding:
    why = exc.strerror or exc.__class__.__name__
    return finding("source.unavailable", rel, f"{rel}: {why}", {"path": rel, "error": why})


def rewritten(rel: str, reason: str, **evidence: Any) -> Finding:
    return finding("journal.rewritten", rel, f"{rel} was rewritten: {reason}",
                   {"reason": reason, **evidence})


def mismatch(inc: Book, rep: Book, rel: str, offset: int) -> Finding | None:
    """journal.replay_mismatch when the incremental and the full replay books differ."""
    counters = {name: [inc.counts[name], rep.counts[name]] for name in COUNTERS
                if inc.counts[name] != rep.counts[name]}
    accounts = sorted({str(a) for a in set(inc.balances) | set(rep.balances)
                       if inc.balances.get(a, 0) != rep.balances.get(a, 0)})
    if not counters and not accounts and inc.key_count == rep.key_count:
        return None
    sample = {a: [str(_get(inc, a)), str(_get(rep, a))] for a in accounts[:20]}
    return finding("journal.replay_mismatch", rel,
                   f"full replay disagrees with the incremental state up to byte {offset}: "
                   f"{len(accounts)} accounts, {len(counters)} counters",
                   {"offset": offset, "counters": counters, "accounts": sample,
                    "accounts_differing": len(accounts),
                    "keys": [inc.key_count, rep.key_count]})


def _get(book: Book, account: str) -> Any:
    for acc, bal in book.balances.items():
        if str(acc) == account:
            return bal
    return 0
