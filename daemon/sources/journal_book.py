"""The replayed books: balances, keys, counters and what is wrong with the lines of a journal.

`Book.feed(lines, first_line, first_offset)` applies complete lines in file order. It is the hot
loop of every replay, so it is one flat function; everything it decides is also reachable
through small helpers for tests. Balances are exact: ints stay ints, decimals are summed in a
60-digit context that traps inexact results (such a delta is reported, never rounded).
A line that is not a healthy event is kept as a typed observation (sources/journal_obs.py);
checks/journal_decide.py turns those into findings.
"""

from __future__ import annotations

import decimal
import re
import sys
from decimal import Decimal
from itertools import accumulate
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, Raw

from daemon.jsondepth import MAX_DEPTH, openers, too_deep
from daemon.lazy import lazy
from daemon.sources import journal_obs as o
from daemon.sources.journal_history import History
from daemon.sources.journal_parse import (
    DEEP,
    FAST_ERRORS,
    INVALID,
    NON_FINITE,
    PLAIN,
    Corrupt,
    Parser,
    raw_number,
)
from daemon.sources.journal_small import SMALL_KEYS, SmallKeys, hash_list

if TYPE_CHECKING:
    import numpy as np

    from daemon.sources.journal_keys import KeyTable
    from daemon.sources.journal_sums import Sums
else:  # numpy is imported with the first bytes to replay (not for an empty journal)
    np = lazy("numpy")

EXACT = decimal.Context(prec=60, Emax=999_999, Emin=-999_999, traps=[
    decimal.InvalidOperation, decimal.Overflow, decimal.Inexact, decimal.DivisionByZero])
ROOMY = Decimal(10) ** 38  # pending sums fold exactly into balances below this (see _roomy)
MAX_NEW = 500  # line observations kept per drain; the rest are counted in `dropped`
COUNTERS = ("lines", "events", "corrupt_lines", "oversized_lines", "invalid_fields",
            "non_finite", "duplicate_keys", "sequence_gaps", "missing_correlation",
            "approval_races", "orphan_decisions")


class Book:
    """Replay state of one journal (plus the files rotated before it)."""

    def __init__(self, parser: Parser, rel: str, *, max_line: int,
                 request_type: str, decision_types: list[str]) -> None:
        self.parser, self.rel, self.max_line = parser, rel, max_line
        self.request_type, self.decision_types = request_type, frozenset(decision_types)
        self.approval_types = self.decision_types | {request_type}
        self._balances: dict[Any, Any] = {}
        self._sums: Sums | None = None  # clean batches' deltas not yet folded (on first use)
        self._wide: bool | None = False  # a balance too wide for `sums` (None: not known)
        self._table: KeyTable | None = None  # made on first use (numpy)
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.last_seq: int | None = None
        self.requested: set[Any] = set()
        self.decided: dict[Any, int] = {}
        self.history = History()
        self.suspects: list[tuple[Any, int, int]] = []  # (key, line, offset) hash matches
        self.new: list[o.LineFact] = []
        self.dropped = 0

    @property
    def balances(self) -> dict[Any, Any]:
        """Exact balances by account (the caller may change them)."""
        self._fold()
        self._wide = None
        return self._balances

    @balances.setter
    def balances(self, value: dict[Any, Any]) -> None:
        if self._sums is not None:
            self._sums.clear()
        self._balances, self._wide = value, None

    @property
    def sums(self) -> Sums:
        if self._sums is None:
            from daemon.sources.journal_sums import Sums
            self._sums = Sums()
        return self._sums

    @property
    def keys(self) -> KeyTable:
        """The idempotency keys seen (64-bit hashes): a Python set while the journal is small
        and numpy is not loaded, then a numpy KeyTable."""
        table = self._table
        if table is None:
            if _small():
                table = SmallKeys()
            else:
                from daemon.sources.journal_keys import KeyTable
                table = KeyTable()
        elif table.__class__ is SmallKeys and (table.count > SMALL_KEYS or not _small()):
            table = table.upgrade()
        self._table = table
        return table  # type: ignore[return-value]

    @keys.setter
    def keys(self, table: KeyTable) -> None:
        self._table = table

    @property
    def key_count(self) -> int:
        return 0 if self._table is None else self._table.count

    def keys_bytes(self) -> int:
        """Memory of the key table (levels and filter)."""
        table = self._table
        return 0 if table is None else table.nbytes + table.filter_bytes()

    def _fold(self) -> None:
        if self._sums is not None and self._sums.pending:
            self._sums.fold(self._balances, EXACT)
            self._wide = None

    def emit(self, fact: o.LineFact) -> None:
        """Record what is wrong with a line, seen for the first time (bounded)."""
        if len(self.new) >= MAX_NEW:
            self.dropped += 1
            return
        self.new.append(fact)

    def drain(self) -> list[o.LineFact]:
        out, self.new = self.new, []
        return out

    def feed(self, lines: list[bytes], line_no: int, offset: int,
             body: bytes | None = None) -> None:
        """Apply complete lines (without their `\\n`); `line_no`/`offset` are the first's.

        `body` is the lines joined by `\\n` when the caller has it (saves a join)."""
        if not lines:
            return
        body = b"\n".join(lines) if body is None else body
        deep = _deep_lines(lines, body)
        if deep or max(map(len, lines)) > self.max_line:
            for i, line in enumerate(lines):  # rare: per-line checks
                self._feed_one(line, line_no + i, offset, i in deep)
                offset += len(line) + 1
            return
        self._feed_fast(lines, line_no, offset)

    def feed_body(self, body: bytes, line_no: int, offset: int) -> int:
        """Apply the complete lines of `body` (lines joined by `\\n`); returns their number.

        A clean body is decoded in one call, without splitting it into lines."""
        if _small():  # a small journal: no numpy (see JournalSource._read)
            lines = body.split(b"\n")
            self.feed(lines, line_no, offset, body)
            return len(lines)
        text = np.frombuffer(body, np.uint8)
        nls = np.flatnonzero(text == 10)
        count = len(nls) + 1
        decoded = self._decode_lines(body, text, nls)
        if decoded is None or _too_long(nls, len(body), self.max_line):
            self.feed(body.split(b"\n"), line_no, offset, body)
            return count
        self.counts["lines"] += count
        events, strict = decoded
        where = _Where(None, offset, nls)
        if "s" in self.parser.paths or not self._apply_clean(events, line_no, where, strict):
            self._apply(events, line_no, offset, None, where)
        return count

    def _decode_lines(self, body: bytes, text: np.ndarray,
                      nls: np.ndarray) -> tuple[list[Any], bool] | None:
        """(the events of a body, whether the strict decoder took them), or None."""
        if not _one_per_line(body, nls) or _crowded(body, text, len(nls) + 1):
            return None
        for decode_lines, strict in self.parser.line_decoders:
            try:
                events = decode_lines(body)
            except FAST_ERRORS:
                continue
            return (events, strict) if len(events) == len(nls) + 1 else None
        return None

    def _feed_one(self, line: bytes, line_no: int, offset: int, deep: bool = False) -> None:
        if len(line) > self.max_line:
            self.oversized(line_no, offset, len(line))
        elif deep:
            self.counts["lines"] += 1
            self._corrupt(line, line_no, offset, DEEP)
        else:
            self._feed_fast([line], line_no, offset)

    def _feed_fast(self, lines: list[bytes], line_no: int, offset: int) -> None:
        try:
            events = list(map(self.parser.decode, lines))
        except FAST_ERRORS:
            events = self._decode_each(lines, line_no, offset)
        self.counts["lines"] += len(lines)
        where = _Where(lines, offset)
        if "s" in self.parser.paths or not self._apply_clean(events, line_no, where):
            self._apply(events, line_no, offset, lines, where)

    def _decode_each(self, lines: list[bytes], line_no: int, offset: int) -> list[Any]:
        decode, slow, where = self.parser.decode, self.parser.slow, _Where(lines, offset)
        events = []
        for i, line in enumerate(lines):
            try:
                events.append(decode(line))
            except FAST_ERRORS:
                events.append(self._slow(slow, line, line_no + i, where.at(i)))
        return events

    def _apply_clean(self, events: list[Any], line_no: int, where: _Where,
                     strict: bool = False) -> bool:
        """The common case at C speed: every line an event with a raw key, an account and a
        delta (known when `strict`). Returns False (having changed nothing) when the batch
        needs `_apply`."""
        if not events or (not strict and None in events):
            return False
        keys = list(map(_GET_K, events))
        accounts = list(map(_GET_A, events))
        if not strict and (set(map(type, keys)) != _RAW or not set(map(type, accounts)) <= _IDS):
            return False
        deltas = _numbers(list(map(_GET_D, events)), strict)
        if deltas is None:
            return False
        approvals = self._approvals_in(events)
        if approvals is None:
            return False
        hashes = hash_many(keys)
        self._sum(accounts, deltas, line_no, where)
        before = self.counts["events"]
        self.counts["events"] = before + len(events)
        if "c" in self.parser.paths and not strict:  # strict: every event has one
            corr = list(map(_GET_C, events))
            self.counts["missing_correlation"] += (
                corr.count(UNSET) + corr.count(None) + corr.count(""))
        for i in approvals:
            self._approval(events[i].t, events[i].r, line_no + i, where.at(i))
        self.history.add(before, accounts, deltas)
        self._keys(hashes, events, line_no, where)
        return True

    def _approvals_in(self, events: list[Any]) -> list[int] | None:
        """Indexes of approval events; None when a type is not a string."""
        if "t" not in self.parser.paths or "r" not in self.parser.paths:
            return []
        types = list(map(_GET_T, events))
        try:
            if self.approval_types.isdisjoint(types):
                return []
        except TypeError:  # an unhashable event type
            return None
        appr = self.approval_types
        return [i for i, t in enumerate(types) if t.__class__ is str and t in appr]

    def _sum(self, accounts: list[Any], deltas: list[Any] | bytes, line_no: int,
             where: _Where) -> None:
        """Add a clean batch's deltas (Decimals, or plain numbers joined by ',')."""
        if deltas.__class__ is bytes:
            if self._sum_scaled(accounts, deltas):
                return
            deltas = _decimals_of(deltas)
        self._sum_each(accounts, deltas, line_no, where)

    def _sum_scaled(self, accounts: list[Any], joined: bytes) -> bool:
        """Add plain-number deltas to the pending int64 sums; False when they must not."""
        if _small():
            return False  # summed as Decimals: a small journal never loads numpy
        if self._wide is None:
            self._fold()
            self._wide = not all(map(_roomy, self._balances.values()))
        if self._wide:
            return False
        if self.sums.add(accounts, joined):
            return True
        self._fold()  # the pending sums are full: fold them and try once more
        self._wide = not all(map(_roomy, self._balances.values()))
        return not self._wide and self.sums.add(accounts, joined)

    def _sum_each(self, accounts: list[Any], deltas: list[Any], line_no: int,
                  where: _Where) -> None:
        self._fold()
        self._wide = None
        balances = self._balances
        get = balances.get
        with decimal.localcontext(EXACT):
            for i, a, d in zip(range(len(accounts)), accounts, deltas, strict=True):
                try:
                    balances[a] = get(a, 0) + d
                except ArithmeticError:
                    self.history.unapplied.add(self.counts["events"] + i + 1)
                    self._bad_delta(a, INVALID, line_no + i, where.at(i))

    def _apply(self, events: list[Any], line_no: int, offset: int, lines: list[bytes] | None,
               where: _Where | None = None) -> None:
        """The general loop: one pass over decoded events (None = not an event)."""
        self._fold()
        self._wide = None
        counts, balances, has = self.counts, self._balances, self.parser.paths
        seq_on, corr_on, appr_on = "s" in has, "c" in has, "t" in has and "r" in has
        appr = self.approval_types
        where = where or _Where(lines, offset)
        before = n = counts["events"]
        missing, hashes, accounts, deltas = 0, [], [], []
        with decimal.localcontext(EXACT):
            for i, ev in enumerate(events):
                if ev is None:
                    continue
                n += 1
                k = ev.k
                if k.__class__ is Raw:
                    hashes.append(k)
                elif k is INVALID:
                    self._invalid(line_no + i, where.at(i), "key")
                if corr_on:
                    c = ev.c
                    if (c.__class__ is not str or not c) and (c is UNSET or c is None or c == ""):
                        missing += 1
                if seq_on:
                    self._sequence(ev.s, line_no + i, where, i)
                if appr_on:
                    t = ev.t
                    if t.__class__ is str and t in appr:
                        self._approval(t, ev.r, line_no + i, where.at(i))
                a, d = ev.a, ev.d
                if d.__class__ is Raw:
                    d = raw_number(d)
                accounts.append(a)
                deltas.append(d)
                if d.__class__ is Decimal and (a.__class__ is str or a.__class__ is int):
                    try:
                        balances[a] = balances.get(a, 0) + d
                    except ArithmeticError:
                        self.history.unapplied.add(n)
                        self._bad_delta(a, INVALID, line_no + i, where.at(i))
                elif a is not UNSET and d is not UNSET:
                    self._bad_delta(a, d, line_no + i, where.at(i))
        counts["events"] = n
        counts["missing_correlation"] += missing
        self.history.add(before, accounts, deltas)
        if hashes:
            self._keys(hash_many(hashes), events, line_no, where)

    def _keys(self, hashes: Any, events: list[Any], line_no: int, where: _Where) -> None:
        """Insert the key hashes of a batch; hash matches become suspects (exact re-check)."""
        dups = set(self.keys.add_many(hashes))
        j = 0
        for i, ev in enumerate(events) if dups else ():
            if ev is not None and ev.k.__class__ is Raw:
                if j in dups:
                    self.suspects.append((bytes(ev.k), line_no + i, where.at(i)))
                j += 1

    def feed_slow(self, line: bytes, line_no: int, offset: int) -> None:
        """Apply one line through the slow path only (e.g. it has invalid UTF-8)."""
        self.counts["lines"] += 1
        ev = self._slow(self.parser.slow, line, line_no, offset)
        if ev is not None:
            self._apply([ev], line_no, offset, [line])

    def _slow(self, slow: Any, line: bytes, line_no: int, offset: int) -> Any:
        try:
            return slow(line)
        except Corrupt as exc:
            self._corrupt(line, line_no, offset, exc.reason)
            return None

    def _corrupt(self, line: bytes, line_no: int, offset: int, reason: str) -> None:
        self.counts["corrupt_lines"] += 1
        self.emit(o.CorruptLine(line_no, offset, reason, line[:120].decode("utf-8", "replace")))

    def _oversized(self, line_no: int, offset: int, size: int) -> None:
        self.counts["oversized_lines"] += 1
        self.emit(o.OversizedLine(line_no, offset, size, self.max_line))

    def oversized(self, line_no: int, offset: int, size: int) -> None:
        """A line too long to hold in memory, skipped by the reader; it is still a line."""
        self._oversized(line_no, offset, size)
        self.counts["lines"] += 1

    def _invalid(self, line_no: int, offset: int, what: o.InvalidWhat, account: Any = None) -> None:
        self.counts["invalid_fields"] += 1
        self.emit(o.InvalidField(line_no, offset, what, account))

    def _bad_delta(self, acc: Any, d: Any, line_no: int, offset: int) -> None:
        if acc is INVALID:
            self._invalid(line_no, offset, "account")
        elif d is NON_FINITE:
            self.counts["non_finite"] += 1
            self.emit(o.NonFiniteDelta(line_no, offset, acc))
        else:
            self._invalid(line_no, offset, "delta", acc)

    def _sequence(self, seq: Any, line_no: int, where: _Where, i: int) -> None:
        if seq is UNSET:
            return
        if seq.__class__ is not int:
            self._invalid(line_no, where.at(i), "sequence")
            return
        last, self.last_seq = self.last_seq, seq
        if last is not None and seq != last + 1:
            self.counts["sequence_gaps"] += 1
            self.emit(o.SequenceGap(line_no, where.at(i), seq, last))

    def _approval(self, kind: str, req: Any, line_no: int, offset: int) -> None:
        if req is UNSET or req.__class__ not in (str, int):
            return
        if kind == self.request_type:
            self.requested.add(req)
        elif kind in self.decision_types:
            if req not in self.requested:
                self.counts["orphan_decisions"] += 1
                self.emit(o.OrphanDecision(line_no, offset, req))
            first = self.decided.setdefault(req, line_no)
            if first != line_no:
                self.counts["approval_races"] += 1
                self.emit(o.ApprovalRace(line_no, offset, req, first))

    def duplicate(self, key: Any, line_no: int, offset: int, first: tuple[int, int] | None) -> None:
        """Report a confirmed duplicate idempotency key (`first` = its first line, offset)."""
        self.counts["duplicate_keys"] += 1
        self.emit(o.DuplicateKey(line_no, offset, key, first))

    def balances_at(self, events: int) -> dict[Any, Any] | None:
        """Balances after exactly `events` events, or None when that is out of history."""
        if events > self.counts["events"] or events < self.history.start:
            return None
        out = dict(self.balances)
        with decimal.localcontext(EXACT):
            for acc, d in self.history.changes_after(events):
                out[acc] = out[acc] - d
        return out


def hash_many(raws: list[bytes]) -> Any:
    """The key hashes of a batch (numpy's vectorised hash, or the same in pure Python)."""
    if _small():
        return hash_list(raws)
    from daemon.sources.journal_keys import hash_many
    return hash_many(raws)


def _small() -> bool:
    """Whether to do without numpy: it is not loaded (yet) — a small journal never loads it."""
    return "numpy" not in sys.modules


_GET_A, _GET_D, _GET_K, _GET_C, _GET_T = (attrgetter(r) for r in "adkct")
_RAW, _IDS = {Raw}, {str, int}
_DECIMALS = msgspec.json.Decoder(list[Decimal]).decode
# Comma-joined deltas, each a plain number or a string holding one in JSON's own grammar
# (`"10.50"`): without their quotes they are plain numbers, summed the same way. Other strings
# go one by one through `raw_number` (msgspec's Decimal decoder would also take `"NaN"`).
_PLAIN_NUMBER = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"  # JSON's grammar, without exponent
_PLAIN_ONE = rb"(?:" + _PLAIN_NUMBER + rb'|"' + _PLAIN_NUMBER + rb'")'
_PLAIN_STRINGS = re.compile(_PLAIN_ONE + rb"(?:," + _PLAIN_ONE + rb")*")


def _numbers(raws: list[Any], strict: bool = False) -> list[Decimal] | bytes | None:
    """A batch's raw deltas when all are JSON numbers: joined by ',' when none has an exponent
    (summed as scaled integers), else as exact Decimals; None when one is not a number.
    `strict`: all are known to be Raw."""
    if not strict and set(map(type, raws)) != _RAW:
        return None
    joined = b",".join(raws)
    if not joined.translate(None, PLAIN):
        return joined
    if b'"' in joined:  # string deltas: plain ones lose their quotes, others go one by one
        return joined.replace(b'"', b"") if _PLAIN_STRINGS.fullmatch(joined) else None
    return _decimals_of(joined, len(raws))


def _decimals_of(joined: bytes, count: int | None = None) -> list[Decimal] | None:
    """Comma-joined raw numbers as exact Decimals in one C call (None if they are not)."""
    try:
        out = _DECIMALS(b"[" + joined + b"]")
    except FAST_ERRORS:
        return None
    return out if count is None or len(out) == count else None


def _roomy(balance: Any) -> bool:
    """Whether sums below 2**62 at scale <= 18 add to `balance` exactly in 60 digits."""
    if balance.__class__ is int:
        return -ROOMY < balance < ROOMY
    exponent = balance.as_tuple().exponent
    return -ROOMY < balance < ROOMY and exponent.__class__ is int and exponent >= -18


def _one_per_line(body: bytes, nls: np.ndarray) -> bool:
    """Whether every line starts with '{' and ends with '}'. `decode_lines` reads values
    separated by any whitespace; as no JSON value holds '}\\n{', its values are then the lines
    (a blank line, two objects on a line, or one over two lines take the line-by-line path)."""
    if body[:1] != b"{" or body[-1:] != b"}":
        return False
    text = np.frombuffer(body, np.uint8)
    return bool((text[nls - 1] == 125).all() and (text[nls + 1] == 123).all())


def _crowded(body: bytes, text: np.ndarray, lines: int) -> bool:
    """Whether a line of a body (each of its `lines` starting with '{') may nest deeper than
    MAX_DEPTH: a cheap count of '{' and '[' (0x7B and 0x5B, equal once bit 0x20 is set); most
    journals hold no '[' at all (one memchr), and then only '{' is counted."""
    pattern = (text | 0x20) == 0x7B if b"[" in body else text == 0x7B
    return int(np.count_nonzero(pattern)) - lines >= MAX_DEPTH


def _deep_lines(lines: list[bytes], body: bytes) -> set[int]:
    """Indexes of the lines nested deeper than MAX_DEPTH (exact, for the few candidates)."""
    if openers(body) <= MAX_DEPTH:
        return set()
    return {i for i, line in enumerate(lines) if too_deep(line)}


def _too_long(nls: np.ndarray, size: int, limit: int) -> bool:
    """Whether a line of a body of `size` bytes with newlines at `nls` is over `limit`."""
    if size <= limit:
        return False
    return int((np.diff(np.append(nls, size), prepend=-1) - 1).max()) > limit


class _Where:
    """Byte offsets of a batch's lines, computed only when a finding needs one (from the lines,
    or from the newline positions `nls` of their joined body)."""

    __slots__ = ("_lines", "_nls", "_offset", "_starts")

    def __init__(self, lines: list[bytes] | None, offset: int,
                 nls: np.ndarray | None = None) -> None:
        self._lines, self._offset, self._nls = lines, offset, nls
        self._starts: list[int] | None = None

    def at(self, i: int) -> int:
        if self._nls is not None:
            return self._offset + (int(self._nls[i - 1]) + 1 if i else 0)
        if self._starts is None:
            self._starts = [self._offset, *accumulate((len(x) + 1 for x in self._lines),
                                                      initial=self._offset)][1:]
        return self._starts[i]
