"""A full replay of a one-shot check: the lean pass, and on two cores for a large journal.

Only for a one-shot `burnin check` reading a journal from byte 0 (the daemon's passes stay in
one process). Each range is read by `read`: the lean pass (journal_lean) for its clean
batches, merged into the Book, then the exact path (`scan`) for whatever it left. A journal of
`MIN_BYTES` or more is cut at a line boundary near its middle: the parent reads the first half
into the real Book while a forked child reads the second half into an empty one. When the
child's half is *clean* — every line an event, no finding of any kind, no approval event, no
key seen twice within it — and merging loses nothing (no key of the half already seen, exact
sums), its books are merged: counters added, balances added exactly (in first-appearance
order), key hashes pushed into the table, the recent history appended, the crc32 combined.
Otherwise (and whenever the child fails) the parent simply reads the second half itself, so
the result is always the sequential replay's, finding for finding.
"""

from __future__ import annotations

import decimal
import os
import pickle
import sys
from collections.abc import Callable
from typing import IO, Any

from daemon.sources.journal_book import COUNTERS, EXACT, Book
from daemon.sources.journal_scan import Position, scan
from daemon.sources.journal_small import SMALL_READ

MIN_BYTES = 32 << 20  # below this, one process is faster than fork + merge
CLEAN_ZERO = tuple(c for c in COUNTERS if c not in ("lines", "events", "missing_correlation"))


def usable(book: Book, size: int) -> bool:
    """Whether a replay of `size` bytes from byte 0 takes this path (it loads numpy)."""
    return size >= min(SMALL_READ, MIN_BYTES) and "s" not in book.parser.paths


def replay(fh: IO[bytes], pos: Position, book: Book, fresh: Book, size: int,
           progress: Callable[[int], None] | None = None) -> None:
    """Apply the complete lines of `fh` after `pos` (at 0) up to `size`, on two cores when
    the journal is large. `fresh` is an empty Book of the same configuration (the child's);
    `progress` is told about the first half (the bytes read here)."""
    import daemon.sources.journal_lean  # noqa: F401 - numpy and the decoders, before any fork
    cut = _cut(fh, size) if size >= MIN_BYTES and _can_fork() else None
    if cut is None:
        read(fh, pos, book, size, progress)
        return
    try:
        rfd, wfd = os.pipe()
    except OSError:
        return  # no pipe (descriptors exhausted): one process
    try:
        pid = os.fork()
    except OSError:  # no memory or process slot for a child: one process
        os.close(rfd)
        os.close(wfd)
        return
    if pid == 0:  # the child: never returns
        os.close(rfd)
        _child(fh.fileno(), cut, size, fresh, wfd)
    os.close(wfd)
    try:
        read(fh, pos, book, cut, progress)
        half = _receive(rfd)
    finally:
        os.close(rfd)
        os.waitpid(pid, 0)
    if half is not None and pos.offset == cut:
        merge(book, pos, half)


def read(fh: IO[bytes], pos: Position, book: Book, limit: int,
         progress: Callable[[int], None] | None = None) -> None:
    """Apply the complete lines after `pos` up to `limit`: the clean batches by the lean pass
    (merged exactly), the rest by the exact path."""
    from daemon.sources import journal_lean as lean

    half = lean.replay(fh, pos.offset, limit, book, progress)
    if half is not None:
        _merge(book, pos, half)
    scan(fh, pos, book, limit=limit, progress=progress)


def _can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform == "linux"


def _cut(fh: IO[bytes], size: int) -> int | None:
    """The offset just after the first newline at or after the middle."""
    fh.seek(size // 2)
    data = fh.read(1 << 20)
    nl = data.find(b"\n")
    return None if nl < 0 else size // 2 + nl + 1


def _child(fd: int, cut: int, size: int, book: Book, wfd: int) -> None:
    code = 0
    try:
        with open(f"/proc/self/fd/{fd}", "rb") as fh:  # an own file offset
            pos = Position(offset=cut)
            read(fh, pos, book, size)
        payload = pickle.dumps(_half(book, pos, cut) if clean(book) else None, protocol=5)
        with os.fdopen(wfd, "wb") as out:
            out.write(payload)
    except BaseException:
        code = 1
    os._exit(code)


def _receive(rfd: int) -> dict[str, Any] | None:
    chunks = []
    while True:
        data = os.read(rfd, 1 << 20)
        if not data:
            break
        chunks.append(data)
    try:
        half: dict[str, Any] | None = pickle.loads(b"".join(chunks))
    except Exception:
        return None
    return half


def clean(book: Book) -> bool:
    """Whether a half's books can be merged without knowing what came before it."""
    return (not book.new and not book.dropped and not book.suspects and not book.requested
            and not book.decided and not book.history.unapplied
            and not any(book.counts[c] for c in CLEAN_ZERO))


def _half(book: Book, pos: Position, cut: int) -> dict[str, Any]:
    levels = [level.tobytes() for level in book.keys.levels]  # each sorted: no merge sort
    return {"counts": book.counts, "balances": book.balances, "keys": levels,
            "history": list(book.history.batches), "history_start": book.history.start,
            "offset": pos.offset, "lines": pos.lines, "crc": pos.crc, "length": pos.offset - cut}


def merge(book: Book, pos: Position, half: dict[str, Any]) -> bool:
    """Merge the child's clean half into `book`/`pos`; False (nothing changed) when it must
    be re-read."""
    return _merge(book, pos, half)


def _merge(book: Book, pos: Position, half: dict[str, Any]) -> bool:
    """Add a half (the child's, or the lean pass's) to `book`/`pos` exactly, or change
    nothing and return False."""
    import numpy as np

    levels = [np.frombuffer(raw, dtype=np.uint64) for raw in half["keys"]]  # sorted, disjoint
    if any(map(book.keys.meets, levels)):
        return False  # a key of the half was seen before it: re-read for its line
    balances = dict(book.balances)
    try:
        with decimal.localcontext(EXACT):
            for acc, value in half["balances"].items():
                balances[acc] = balances.get(acc, 0) + value
    except ArithmeticError:
        return False
    before = book.counts["events"]
    book.balances = balances
    for name in COUNTERS:
        book.counts[name] += half["counts"][name]
    for level in sorted(levels, key=len):  # the largest ends up lowest
        book.keys.push_unique(level)
    for start, accounts, deltas in half["history"]:
        book.history.add(before + start, accounts, deltas)
    pos.crc = crc32_combine(pos.crc, half["crc"], half["length"])
    pos.offset, pos.lines = half["offset"], pos.lines + half["lines"]
    return True


# ---------------------------------------------------------------- crc32 of two pieces

def _gf2_times(mat: list[int], vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _gf2_square(mat: list[int]) -> list[int]:
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """zlib's crc32_combine: the crc32 of A+B from crc32(A), crc32(B) and len(B)."""
    if len2 <= 0:
        return crc1
    if crc1 == 0:  # the operator below is linear: it leaves a zero crc zero
        return crc2
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # apply len2 zero bytes to crc1, one bit of len2 at a time
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2
