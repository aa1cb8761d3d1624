"""The lean replay: clean journal bytes applied a whole batch at a time, outside any Book.

A full replay of a large journal (a one-shot `burnin check`, and each half of the two-core
split) is almost entirely clean events, so this pass does only what clean batches need. It
reads 1 MiB of lines at a time (`os.pread`, no copies), decodes them in one msgspec call into
a lean Struct (account, delta and key, the correlation id only to require it, the event type
only as raw text to spot approvals), sums the deltas per account at a common scale (`Sums`),
and only *collects* the key hashes: they are sorted and checked for a repeat once, at the end,
instead of keeping a key table up to date batch by batch.

It stops before the first batch that is not plain — non-ASCII bytes, a line that is not one
object, a nesting or length limit, a refused decode (a missing field, an empty correlation
id), a delta with an exponent, an approval event — and a key seen twice stops it before the
batch that repeats it. What it covered is returned as a half that `journal_split` merges; the
exact path (`journal_scan.scan`) reads the rest, so the result is the sequential replay's.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import IO, Annotated, Any, Literal

import msgspec
import numpy as np
from msgspec import Raw

from daemon.jsondepth import MAX_DEPTH
from daemon.sources.journal_book import (
    COUNTERS,
    EXACT,
    Book,
    _crowded,
    _numbers,
)
from daemon.sources.journal_history import History
from daemon.sources.journal_keys import hash_lines
from daemon.sources.journal_parse import FAST_ERRORS
from daemon.sources.journal_sums import Sums

CHUNK = 1 << 20
PROGRESS_EVERY = 16 << 20
_GET_A, _GET_D, _GET_K, _GET_T = (attrgetter(r) for r in "adkt")
# A line msgspec takes is valid JSON: nesting deeper than MAX_DEPTH takes an opening and a
# closing bracket per level, so a shorter line cannot (its brackets are not even counted).
SHALLOW = 2 * (MAX_DEPTH + 1)
_NON_EMPTY = Annotated[str, msgspec.Meta(min_length=1)]
_ABSENT = {True: Raw(b"null"), False: msgspec.UNSET}  # an event without a type


@dataclass(frozen=True)
class Plan:
    """How a Book's configuration reads a clean batch (`None` from `plan`: it cannot)."""

    names: dict[str, str]  # role -> field name: a, d, k, and c and t when they are used
    approvals: tuple[bytes, ...]  # approval event types as JSON text; () when not tracked
    max_line: int

    def decoder(self, accounts: Any = str | int, types: Any = Raw) -> Any:
        """`decode_lines` of the lean Struct (account and event type of the given types)."""
        kinds = {"a": accounts, "d": Raw, "k": Raw, "c": _NON_EMPTY, "t": types}
        fields = [(r, kinds[r]) if r != "t" else ("t", types, _ABSENT[types is Raw])
                  for r in self.names]
        struct = msgspec.defstruct("LeanEvent", fields, rename=self.names, gc=False,
                                   kw_only=True)
        return msgspec.json.Decoder(struct).decode_lines


def plan(book: Book) -> Plan | None:
    """The lean reading of a Book's fields: flat paths, an account, a delta and a key, no
    sequence numbers (each line's gap check needs the line before it)."""
    parser, paths = book.parser, book.parser.paths
    if not parser.flat or not {"a", "d", "k"} <= paths.keys() or "s" in paths:
        return None
    roles = ["a", "d", "k", *(["c"] if "c" in paths else [])]
    approvals: tuple[bytes, ...] = ()
    if "t" in paths and "r" in paths:
        roles.append("t")
        approvals = tuple(json.dumps(t).encode() for t in sorted(book.approval_types))
    return Plan({r: paths[r][0] for r in roles}, approvals, book.max_line)


class _Decoders:
    """The general lean decoder, and a learned one that also checks each account and event
    type against those seen so far (msgspec `Literal`s): it makes no string per event, and a
    batch it takes holds no approval event. A batch with a new value takes the general one,
    and once it is found clean its values are learned (up to `LEARN` of them)."""

    LEARN = 4096

    def __init__(self, how: Plan) -> None:
        self.how, self.general = how, how.decoder()
        self.learned: Any = None
        self.accounts: dict[Any, None] | None = {}  # None: no more learning
        self.types: dict[str, None] = {}

    def decode(self, body: Any) -> tuple[list[Any], bool] | None:
        """(events, whether the learned decoder took them), or None when neither does."""
        if self.learned is not None:
            try:
                return self.learned(body), True
            except FAST_ERRORS:
                pass
        try:
            return self.general(body), False
        except FAST_ERRORS:
            return None

    def learn(self, accounts: list[Any], types: bytes | None) -> None:
        """Remember the accounts and the (string) event types of a clean batch."""
        if self.accounts is None:
            return
        known = len(self.accounts) + len(self.types)
        self.accounts.update(dict.fromkeys(accounts))
        for raw in set(types.split(b"\n")) if types else ():
            if raw[:1] == b'"':
                self.types[raw[1:-1].decode()] = None
        grown = len(self.accounts) + len(self.types)
        if grown == known or not (self.types or "t" not in self.how.names):
            return
        try:
            if grown > self.LEARN:
                raise ValueError("too many values to learn")
            types_of = Literal.__getitem__(tuple(self.types)) if self.types else Raw
            self.learned = self.how.decoder(Literal.__getitem__(tuple(self.accounts)), types_of)
        except (TypeError, ValueError, NotImplementedError):  # too many, an int beyond int64
            self.learned = self.accounts = None


def replay(fh: IO[bytes], start: int, limit: int, book: Book,
           progress: Callable[[int], None] | None = None) -> dict[str, Any] | None:
    """The half `journal_split` merges for the clean batches from byte `start` (a line
    start) towards `limit`, or None when there is none."""
    return Reader(book).replay(fh, start, limit, progress)


class Reader:
    """The lean pass of one Book's configuration, range after range: what its decoders
    learned (accounts, event types) carries over."""

    def __init__(self, book: Book) -> None:
        self.how = plan(book)
        self.decoders = None if self.how is None else _Decoders(self.how)

    def replay(self, fh: IO[bytes], start: int, limit: int,
               progress: Callable[[int], None] | None = None) -> dict[str, Any] | None:
        """The half for the clean batches from `start` towards `limit` (None: not one);
        its `whole` says whether it reached `limit` (or an unterminated tail before it)."""
        if self.how is None or self.decoders is None or start >= limit:
            return None
        run = _Run(self.how, self.decoders, start)
        run.read(fh, limit, progress)
        while (repeat := run.first_repeat()) is not None:
            run = _Run(self.how, self.decoders, start)  # a key seen twice: the batches
            run.read(fh, repeat, progress)  # before its second sighting
            run.whole = False
        return run.half() if run.events else None


class _Run:
    """One lean pass: the books of the clean batches read so far."""

    def __init__(self, how: Plan, decoders: _Decoders, start: int) -> None:
        self.how, self.decoders, self.start, self.offset = how, decoders, start, start
        self.whole = False  # read up to the limit, or to an unterminated tail before it
        self.lines = self.events = self.crc = 0
        self.sums, self.balances = Sums(), {}
        self.hashes: list[np.ndarray] = []
        self.ends: list[tuple[int, int]] = []  # (events, offset) after each batch
        self.history = History()

    def read(self, fh: IO[bytes], limit: int, progress: Callable[[int], None] | None) -> None:
        reported, self.whole = self.offset, True
        buf = bytearray(CHUNK)  # one buffer, read into again and again (no fresh pages)
        while self.offset < limit:
            want = min(CHUNK, limit - self.offset)
            got = _read_at(fh, memoryview(buf)[:want], self.offset)
            data: bytes | bytearray = buf if got == CHUNK else bytes(buf[:got])
            end = data.rfind(b"\n")
            if end < 0 and (got < want or want == limit - self.offset):
                break  # an unterminated tail: for the exact path, which measures it
            if end <= 0 or not self.take(data, end):
                self.whole = False  # a line longer than a chunk, a blank line, an unclean batch
                break
            self.crc = zlib.crc32(memoryview(data)[: end + 1], self.crc)
            self.offset += end + 1
            self.ends.append((self.events, self.offset))
            if progress is not None and self.offset - reported >= PROGRESS_EVERY:
                progress(self.offset)
                reported = self.offset
        if progress is not None:
            progress(self.offset)

    def take(self, data: bytes | bytearray, end: int) -> bool:
        """Apply the lines of `data[:end]` when all are clean events (else change nothing)."""
        if not data.isascii():
            return False
        text = np.frombuffer(data, np.uint8, count=end)
        nls = np.flatnonzero(text == 10)
        body = memoryview(data)[:end]
        longest = int((np.diff(nls, prepend=-1, append=end) - 1).max())
        if longest > self.how.max_line or not _one_per_line(data, end, text, nls) or (
                longest >= SHALLOW and _crowded(data, text, len(nls) + 1)):
            return False
        decoded = self.decoders.decode(body)
        if decoded is None or len(decoded[0]) != len(nls) + 1:
            return False
        events, learned = decoded
        types = None if learned or not self.how.approvals else b"\n".join(map(_GET_T, events))
        if types is not None and (b"\\" in types or any(t in types for t in self.how.approvals)):
            return False  # an approval event (or an escaped type that may be one)
        accounts = list(map(_GET_A, events))
        if not self._apply(events, accounts):
            return False
        if not learned:
            self.decoders.learn(accounts, types)
        return True

    def _apply(self, events: list[Any], accounts: list[Any]) -> bool:
        deltas = _numbers(list(map(_GET_D, events)), True)
        if deltas.__class__ is not bytes or not self._sum(accounts, deltas):  # type: ignore[arg-type]
            return False  # an exponent, a non-number, a sum too wide: added one by one
        self.hashes.append(hash_lines(b"\n".join(map(_GET_K, events)), len(events)))
        self.history.add(self.events, accounts, deltas)  # type: ignore[arg-type]
        self.events += len(events)
        self.lines += len(events)
        return True

    def _sum(self, accounts: list[Any], joined: bytes) -> bool:
        if self.sums.add(accounts, joined):
            return True
        self.fold()  # the pending sums are full: fold them and try once more
        return self.sums.add(accounts, joined)

    def fold(self) -> None:
        self.sums.fold(self.balances, EXACT)

    def first_repeat(self) -> int | None:
        """The offset of the batch holding the first key seen before, None when all differ."""
        if not self.hashes:
            return None
        every = np.concatenate(self.hashes)
        ranked = np.sort(every)
        if not (ranked[1:] == ranked[:-1]).any():
            self.hashes = [ranked]
            return None
        order = np.argsort(every, kind="stable")
        again = order[1:][every[order[1:]] == every[order[:-1]]]
        first = int(again.min())  # the earliest event whose key was seen before it
        batch = next(i for i, (events, _) in enumerate(self.ends) if events > first)
        return self.ends[batch - 1][1] if batch else self.start

    def half(self) -> dict[str, Any]:
        self.fold()
        counts = dict.fromkeys(COUNTERS, 0)
        counts["lines"], counts["events"] = self.lines, self.events
        return {"counts": counts, "balances": self.balances, "keys": self.hashes,
                "history": list(self.history.batches), "history_start": self.history.start,
                "offset": self.offset, "lines": self.lines, "crc": self.crc,
                "length": self.offset - self.start, "whole": self.whole}


def _read_at(fh: IO[bytes], view: memoryview, offset: int) -> int:
    """Fill `view` from byte `offset` (fewer bytes only at the end of the file): `os.preadv`
    where there is one (no seek: the forked child shares none), else seek and read."""
    if hasattr(os, "preadv"):
        return os.preadv(fh.fileno(), [view], offset)
    fh.seek(offset)
    return fh.readinto(view) or 0


def _one_per_line(data: bytes, end: int, text: np.ndarray, nls: np.ndarray) -> bool:
    """Whether each line of `data[:end]` starts with '{' and ends with '}' (see
    `journal_book._one_per_line`: then msgspec's values are the lines)."""
    if data[0] != 0x7B or data[end - 1] != 0x7D:
        return False
    return bool((text[nls - 1] == 0x7D).all() and (text[nls + 1] == 0x7B).all())
