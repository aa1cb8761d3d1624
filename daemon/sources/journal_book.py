"""The replayed books: balances, keys, counters and the event findings of a journal.

`Book.feed(lines, first_line, first_offset)` applies complete lines in file order. It is the hot
loop of every replay, so it is one flat function; everything it decides is also reachable
through small helpers for tests. Balances are exact: ints stay ints, decimals are summed in a
60-digit context that traps inexact results (such a delta is reported, never rounded).
"""

from __future__ import annotations

import decimal
from collections import deque
from typing import Any

from msgspec import UNSET, Raw

from daemon.model import Finding, finding
from daemon.sources.journal_keys import KeyTable, key_hash
from daemon.sources.journal_parse import (
    FAST_ERRORS,
    INVALID,
    NON_FINITE,
    Corrupt,
    Parser,
    raw_number,
)

EXACT = decimal.Context(prec=60, Emax=999_999, Emin=-999_999, traps=[
    decimal.InvalidOperation, decimal.Overflow, decimal.Inexact, decimal.DivisionByZero])
MAX_NEW = 500  # event findings kept per drain; the rest are counted in `dropped`
HISTORY = 16384  # recent balance changes kept to reconcile a lagging snapshot
COUNTERS = ("lines", "events", "corrupt_lines", "oversized_lines", "invalid_fields",
            "non_finite", "duplicate_keys", "sequence_gaps", "missing_correlation",
            "approval_races", "orphan_decisions")


class Book:
    """Replay state of one journal (plus the files rotated before it)."""

    def __init__(self, parser: Parser, rel: str, *, max_line: int,
                 request_type: str, decision_types: list[str]) -> None:
        self.parser, self.rel, self.max_line = parser, rel, max_line
        self.request_type, self.decision_types = request_type, frozenset(decision_types)
        self.balances: dict[Any, Any] = {}
        self.keys = KeyTable()
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.last_seq: int | None = None
        self.requested: set[Any] = set()
        self.decided: dict[Any, int] = {}
        self.history: deque[tuple[int, Any, Any]] = deque(maxlen=HISTORY)
        self.suspects: list[tuple[Any, int, int]] = []  # (key, line, offset) hash matches
        self.new: list[Finding] = []
        self.dropped = 0

    def emit(self, code: str, line: int, offset: int, message: str, **evidence: Any) -> None:
        """Record a new event finding about a line (bounded)."""
        if len(self.new) >= MAX_NEW:
            self.dropped += 1
            return
        evidence.update(line=line, offset=offset)
        self.new.append(finding(code, f"{self.rel}:{line}", message, evidence))

    def drain(self) -> list[Finding]:
        out, self.new = self.new, []
        return out

    def feed(self, lines: list[bytes], line_no: int, offset: int) -> None:
        """Apply complete lines (without their `\\n`); `line_no`/`offset` are the first's."""
        counts, balances, keys, parser = self.counts, self.balances, self.keys, self.parser
        decode, slow, max_line = parser.decode, parser.slow, self.max_line
        has = parser.paths
        seq_on, corr_on, appr_on = "s" in has, "c" in has, "t" in has and "r" in has
        events = counts["events"]
        missing = 0
        history = self.history
        with decimal.localcontext(EXACT):
            for line in lines:
                size = len(line)
                if size > max_line:
                    self._oversized(line_no, offset, size)
                else:
                    try:
                        ev = decode(line)
                    except FAST_ERRORS:
                        ev = self._slow(slow, line, line_no, offset)
                    if ev is not None:
                        events += 1
                        key = ev.k
                        if key is INVALID:
                            self._invalid(line_no, offset, "idempotency key is not a string")
                        elif key is not UNSET and not keys.add(key_hash(key)):
                            self.suspects.append((key, line_no, offset))
                        if corr_on:
                            c = ev.c
                            if c is UNSET or c is None or c == "":
                                missing += 1
                        if seq_on:
                            self._sequence(ev.s, line_no, offset)
                        if appr_on and ev.t.__class__ is str:
                            self._approval(ev.t, ev.r, line_no, offset)
                        acc, d = ev.a, ev.d
                        if acc is not UNSET and d is not UNSET:
                            if d.__class__ is Raw:
                                d = raw_number(d)
                            if acc is INVALID or d is INVALID or d is NON_FINITE:
                                self._bad_delta(acc, d, line_no, offset)
                            else:
                                try:
                                    balances[acc] = balances.get(acc, 0) + d
                                except ArithmeticError:
                                    self._bad_delta(acc, INVALID, line_no, offset)
                                else:
                                    history.append((events, acc, d))
                offset += size + 1
                line_no += 1
        counts["lines"] += len(lines)
        counts["events"] = events
        counts["missing_correlation"] += missing

    def feed_slow(self, line: bytes, line_no: int, offset: int) -> None:
        """Apply one line known to fail the fast path (invalid UTF-8): a corrupt line."""
        self.counts["lines"] += 1
        if self._slow(self.parser.slow, line, line_no, offset) is not None:
            self.counts["lines"] -= 1
            self.feed([line], line_no, offset)

    def _slow(self, slow: Any, line: bytes, line_no: int, offset: int) -> Any:
        try:
            return slow(line)
        except Corrupt as exc:
            self.counts["corrupt_lines"] += 1
            self.emit("journal.corrupt_line", line_no, offset,
                      f"line {line_no} is not a JSON object ({exc.reason})", reason=exc.reason,
                      text=line[:120].decode("utf-8", "replace"))
            return None

    def _oversized(self, line_no: int, offset: int, size: int) -> None:
        self.counts["oversized_lines"] += 1
        self.emit("journal.oversized_line", line_no, offset,
                  f"line {line_no} is {size} bytes, over journal.max_line_bytes "
                  f"({self.max_line}); skipped", bytes=size, limit=self.max_line)

    def oversized(self, line_no: int, offset: int, size: int) -> None:
        """A line too long to hold in memory, skipped by the reader; it is still a line."""
        self._oversized(line_no, offset, size)
        self.counts["lines"] += 1

    def _invalid(self, line_no: int, offset: int, why: str, **evidence: Any) -> None:
        self.counts["invalid_fields"] += 1
        self.emit("journal.invalid_field", line_no, offset, f"line {line_no}: {why}",
                  reason=why, **evidence)

    def _bad_delta(self, acc: Any, d: Any, line_no: int, offset: int) -> None:
        if acc is INVALID:
            self._invalid(line_no, offset, "account is not a string or integer")
        elif d is NON_FINITE:
            self.counts["non_finite"] += 1
            self.emit("ledger.non_finite", line_no, offset,
                      f"line {line_no}: non-finite delta for account {acc}; not applied",
                      account=_text(acc))
        else:
            self._invalid(line_no, offset, "delta is not an exact finite JSON number",
                          account=_text(acc))

    def _sequence(self, seq: Any, line_no: int, offset: int) -> None:
        if seq is UNSET:
            return
        if seq.__class__ is not int:
            self._invalid(line_no, offset, "sequence is not an integer")
            return
        last, self.last_seq = self.last_seq, seq
        if last is not None and seq != last + 1:
            self.counts["sequence_gaps"] += 1
            self.emit("journal.sequence_gap", line_no, offset,
                      f"line {line_no}: sequence {seq} after {last}", sequence=seq,
                      previous=last)

    def _approval(self, kind: str, req: Any, line_no: int, offset: int) -> None:
        if req is UNSET or req.__class__ not in (str, int):
            return
        if kind == self.request_type:
            self.requested.add(req)
        elif kind in self.decision_types:
            if req not in self.requested:
                self.counts["orphan_decisions"] += 1
                self.emit("ledger.orphan_decision", line_no, offset,
                          f"decision for request {req} that was never requested",
                          request_id=_text(req))
            first = self.decided.setdefault(req, line_no)
            if first != line_no:
                self.counts["approval_races"] += 1
                self.emit("ledger.approval_race", line_no, offset,
                          f"request {req} decided again at line {line_no} (first at {first})",
                          request_id=_text(req), first_line=first)

    def duplicate(self, key: Any, line_no: int, offset: int, first: tuple[int, int] | None) -> None:
        """Report a confirmed duplicate idempotency key (`first` = its first line, offset)."""
        self.counts["duplicate_keys"] += 1
        where = f" (first at line {first[0]})" if first else ""
        self.emit("journal.duplicate_key", line_no, offset,
                  f"idempotency key {key!r} seen again at line {line_no}{where}",
                  key=_text(key), first_line=first[0] if first else None,
                  first_offset=first[1] if first else None)

    def balances_at(self, events: int) -> dict[Any, Any] | None:
        """Balances after exactly `events` events, or None when that is out of history."""
        history = self.history
        if events > self.counts["events"] or (
                len(history) == history.maxlen and history[0][0] - 1 > events):
            return None
        out = dict(self.balances)
        with decimal.localcontext(EXACT):
            for n, acc, d in reversed(history):
                if n <= events:
                    break
                out[acc] = out[acc] - d
        return out


def _text(value: Any) -> Any:
    return value if isinstance(value, str | int) else repr(value)
