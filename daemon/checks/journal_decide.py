"""Pure decisions of the journal checks: observations in, findings out (table-tested).

The journal source (sources/journal.py and its readers) reports what it saw as typed values
(sources/journal_obs.py); this module decides which of them are findings, with their codes,
messages and evidence (SPEC §3). No I/O and no clock: limits come in as plain values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from daemon.config import Config
from daemon.model import Finding, finding
from daemon.sources import journal_obs as o
from daemon.sources.ledger_snapshot import Drift, compare


class Limits(NamedTuple):
    """The configuration the judgements need (from `[journal]` and `[ledger]`)."""

    path: str  # the journal, relative to the root: subject of its findings
    correlation_field: str = "correlation_id"
    torn_tail_grace_s: float = 60.0
    allow_negative: bool = False
    drift_tolerance: float = 0.000001
    snapshot_explicit: bool = False  # a missing snapshot is a finding only when configured


def limits(cfg: Config) -> Limits:
    j = cfg.journal
    return Limits(j.path, j.correlation_field, j.torn_tail_grace, cfg.ledger.allow_negative,
                  cfg.ledger.drift_tolerance, "snapshot" in j.model_fields_set)


def judge(obs: o.Observed, lim: Limits) -> list[Finding]:
    """Every finding of one pass, in the order the journal source reports them."""
    if obs.unavailable is not None:
        return [unavailable(obs.unavailable)]
    out = [rewritten(lim.path, obs.rewritten)] if obs.rewritten is not None else []
    out += line_findings(obs.lines, lim.path)
    out += negative_balances(obs.negative, lim.allow_negative)
    out += missing_correlation(obs.missing_correlation, lim.path, lim.correlation_field)
    if obs.tail is not None:
        out += torn_tail(lim.path, obs.tail, lim.torn_tail_grace_s)
    if obs.snapshot is not None:
        out += snapshot_findings(obs.snapshot, lim)
    if obs.mismatch is not None:
        out += mismatch(lim.path, obs.mismatch)
    return out


# -- one line ----------------------------------------------------------------------------------


def line_findings(facts: Iterable[o.LineFact], path: str) -> list[Finding]:
    return [line_finding(fact, path) for fact in facts]


def line_finding(fact: o.LineFact, path: str) -> Finding:
    """The event finding about one line; subject `path:line`, evidence ends with line, offset."""
    code, message, evidence = _LINE[type(fact)](fact)
    evidence.update(line=fact.line, offset=fact.offset)
    return finding(code, f"{path}:{fact.line}", message, evidence)


Judged = tuple[str, str, dict[str, Any]]  # code, message, evidence


def _corrupt(f: o.CorruptLine) -> Judged:
    return ("journal.corrupt_line", f"line {f.line} is not a JSON object ({f.reason})",
            {"reason": f.reason, "text": f.text})


def _oversized(f: o.OversizedLine) -> Judged:
    return ("journal.oversized_line", f"line {f.line} is {f.size} bytes, over "
            f"journal.max_line_bytes ({f.limit}); skipped", {"bytes": f.size, "limit": f.limit})


INVALID_WHY = {
    "key": "idempotency key is not a string",
    "account": "account is not a string or integer",
    "delta": "delta is not a finite decimal (a JSON number or a string holding one)",
    "sequence": "sequence is not an integer",
}


def _invalid(f: o.InvalidField) -> Judged:
    why = INVALID_WHY[f.what]
    evidence: dict[str, Any] = {"reason": why}
    if f.what == "delta":
        evidence["account"] = text(f.account)
    return "journal.invalid_field", f"line {f.line}: {why}", evidence


def _non_finite(f: o.NonFiniteDelta) -> Judged:
    return ("ledger.non_finite",
            f"line {f.line}: non-finite delta for account {f.account}; not applied",
            {"account": text(f.account)})


def _gap(f: o.SequenceGap) -> Judged:
    return ("journal.sequence_gap", f"line {f.line}: sequence {f.sequence} after {f.previous}",
            {"sequence": f.sequence, "previous": f.previous})


def _orphan(f: o.OrphanDecision) -> Judged:
    return ("ledger.orphan_decision",
            f"decision for request {f.request_id} that was never requested",
            {"request_id": text(f.request_id)})


def _race(f: o.ApprovalRace) -> Judged:
    return ("ledger.approval_race",
            f"request {f.request_id} decided again at line {f.line} (first at {f.first_line})",
            {"request_id": text(f.request_id), "first_line": f.first_line})


def _duplicate(f: o.DuplicateKey) -> Judged:
    key = key_text(f.key)
    where = f" (first at line {f.first[0]})" if f.first else ""
    return ("journal.duplicate_key", f"idempotency key {key!r} seen again at line {f.line}{where}",
            {"key": key, "first_line": f.first[0] if f.first else None,
             "first_offset": f.first[1] if f.first else None})


_LINE: dict[type, Callable[[Any], Judged]] = {
    o.CorruptLine: _corrupt, o.OversizedLine: _oversized, o.InvalidField: _invalid,
    o.NonFiniteDelta: _non_finite, o.SequenceGap: _gap, o.OrphanDecision: _orphan,
    o.ApprovalRace: _race, o.DuplicateKey: _duplicate,
}


def key_text(raw: bytes) -> Any:
    """An idempotency key as evidence: its JSON value, else its text."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
    return text(value)


def text(value: Any) -> Any:
    """An account or request id as evidence: strings and ints as they are, others as repr."""
    return value if isinstance(value, str | int) else repr(value)


# -- the journal as a whole --------------------------------------------------------------------


def unavailable(obs: o.Unavailable) -> Finding:
    return finding("source.unavailable", obs.path, f"{obs.path}: {obs.error}",
                   {"path": obs.path, "error": obs.error})


REWRITTEN_WHY = {"changed": "bytes already verified changed",
                 "replaced": "replaced by a new file"}


def rewritten(path: str, obs: o.Rewritten) -> Finding:
    """`journal.rewritten`; evidence: the reason, how far it was verified (offset, line)."""
    if obs.how == "shrank":
        reason = f"shrank from {obs.offset} to {obs.size} bytes"
    else:
        reason = REWRITTEN_WHY[obs.how]
    evidence: dict[str, Any] = {"reason": reason, "offset": obs.offset}
    if obs.line is not None:
        evidence["line"] = obs.line
    return finding("journal.rewritten", path, f"{path} was rewritten: {reason}", evidence)


def negative_balances(negative: Iterable[tuple[Any, Any]], allow: bool) -> list[Finding]:
    """One `ledger.negative_balance` per account below zero, unless negatives are allowed."""
    if allow:
        return []
    return [finding("ledger.negative_balance", str(acc), f"account {acc} balance is {bal}",
                    {"account": str(acc), "balance": str(bal)})
            for acc, bal in negative]


def missing_correlation(count: int, path: str, field: str) -> list[Finding]:
    if not count:
        return []
    return [finding("journal.missing_correlation_id", path,
                    f"{count} events without {field}", {"count": count, "field": field})]


def torn_tail(path: str, tail: o.Tail, grace_s: float) -> list[Finding]:
    """`journal.torn_tail` once an unterminated last line outlives the grace."""
    if tail.size <= 0 or tail.age_s <= grace_s:
        return []
    return [finding("journal.torn_tail", path,
                    f"unterminated last line ({tail.size} bytes) unchanged for {tail.age_s:.0f}s",
                    {"offset": tail.offset, "bytes": tail.size, "age_s": round(tail.age_s, 1)})]


def mismatch(path: str, diff: o.BookDiff) -> list[Finding]:
    """`journal.replay_mismatch` when the incremental books and the full replay differ."""
    if not diff.differs:
        return []
    sample = {a: [str(inc), str(rep)] for a, inc, rep in diff.accounts[:20]}
    return [finding("journal.replay_mismatch", path,
                    f"full replay disagrees with the incremental state up to byte {diff.offset}: "
                    f"{len(diff.accounts)} accounts, {len(diff.counters)} counters",
                    {"offset": diff.offset, "counters": diff.counters, "accounts": sample,
                     "accounts_differing": len(diff.accounts), "keys": list(diff.keys)})]


# -- the snapshot ------------------------------------------------------------------------------


def snapshot_findings(obs: o.SnapshotObs, lim: Limits) -> list[Finding]:
    if isinstance(obs, o.Unavailable):
        return [unavailable(obs)]
    if isinstance(obs, o.SnapshotAbsent):
        return [unavailable(o.Unavailable(obs.path, obs.error))] if lim.snapshot_explicit else []
    if isinstance(obs, o.SnapshotCorrupt):
        return [finding("ledger.snapshot_corrupt", obs.path, f"{obs.path}: {obs.reason}",
                        {"reason": obs.reason})]
    out = [finding("ledger.non_finite", f"{obs.path}:{account}",
                   f"snapshot balance of {account} is not finite",
                   {"account": account, "snapshot": obs.path})
           for account in obs.new_non_finite]
    if obs.replay is None:
        return out
    found = compare(obs.replay, obs.snapshot, lim.drift_tolerance)
    return out + drifts(found, obs.path, obs.snapshot.event_count)


def drifts(found: Iterable[Drift], snapshot: str, event_count: int | None) -> list[Finding]:
    """One `ledger.drift` per account whose snapshot balance is beyond the tolerance."""
    return [finding("ledger.drift", d.account,
                    f"snapshot says {d.actual}, replay says {d.expected} (diff {d.difference})",
                    {"account": d.account, "expected": str(d.expected), "actual": str(d.actual),
                     "difference": str(d.difference), "snapshot": snapshot,
                     "event_count": event_count})
            for d in found]
