"""A full replay of a one-shot check: the lean pass, and on two cores for a large journal.

Only for a one-shot `burnin check` reading a journal from byte 0 (the daemon's passes stay in
one process). A range is read by `read`: the lean pass (journal_lean) for its clean batches,
merged into the Book, then the exact path (`scan`) for whatever it left. A journal of
`MIN_BYTES` or more is cut at line boundaries into `PIECES` pieces; this process and a forked
child take them in turn (whichever is free takes the next, so an uneven load on the two
cores evens out) and run the lean pass on each. When every piece was read whole and no key
appears in two of them, the pieces' books are added in file order: counters added, balances
added exactly (in first-appearance order), the key hashes pushed as one sorted level, the
recent history appended, the crc32s combined. Otherwise (and for the pieces of a child that
failed) the pieces are taken in order here: a piece's half is merged when nothing before it
contradicts it, and `read` goes on from where it stopped — so the result is always the
sequential replay's, finding for finding.
"""

from __future__ import annotations

import contextlib
import decimal
import os
import sys
from collections.abc import Callable, Sequence
from functools import cache
from itertools import pairwise
from typing import IO, TYPE_CHECKING, Any

from daemon.sources.journal_book import COUNTERS, EXACT, Book
from daemon.sources.journal_scan import Position, scan
from daemon.sources.journal_small import SMALL_READ

if TYPE_CHECKING:
    import pickle

MIN_BYTES = 32 << 20  # below this, one process is faster than fork + merge
PIECES = 8  # taken in turn by the two processes
Taken = tuple[dict[int, dict[str, Any]], list[Any]]  # halves by piece, sorted key hashes


def usable(book: Book, size: int) -> bool:
    """Whether a replay of `size` bytes from byte 0 takes this path (it loads numpy)."""
    return size >= min(SMALL_READ, MIN_BYTES) and "s" not in book.parser.paths


def replay(fh: IO[bytes], pos: Position, book: Book, fresh: Book, size: int,
           progress: Callable[[int], None] | None = None) -> None:
    """Apply the complete lines of `fh` after `pos` (at 0) up to `size`, on two cores when
    the journal is large. `fresh` is an empty Book of the same configuration (the child's);
    `progress` is told about the pieces read here."""
    import daemon.sources.journal_lean  # noqa: F401 - numpy and the decoders, before any fork
    cuts = _cuts(fh, size) if size >= MIN_BYTES and _can_fork() else None
    if cuts is None:
        read(fh, pos, book, size, progress)
        return
    halves, unions = _on_two_cores(fh, book, fresh, cuts, progress)
    if not _merge_all(book, pos, cuts, halves, unions):
        for i, end in enumerate(cuts[1:]):
            half = halves.get(i)
            if half is not None and half["offset"] - half["length"] == pos.offset:
                _merge(book, pos, half)
            read(fh, pos, book, end, progress)


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


def _cuts(fh: IO[bytes], size: int) -> list[int]:
    """0, the offsets just after the first newline at or after each PIECES-th of the file,
    and `size` (increasing)."""
    cuts = [0]
    for n in range(1, PIECES):
        at = _after_newline(fh, size * n // PIECES)
        if at is not None and cuts[-1] < at < size:
            cuts.append(at)
    return [*cuts, size]


def _after_newline(fh: IO[bytes], at: int) -> int | None:
    """The offset just after the first newline at or after `at` (looked for in the next
    64 KiB, then 1 MiB more), or None."""
    fh.seek(at)
    for size in (1 << 16, 1 << 20):
        data = fh.read(size)
        nl = data.find(b"\n")
        if nl >= 0:
            return fh.tell() - len(data) + nl + 1
        if len(data) < size:
            break
    return None


def _on_two_cores(fh: IO[bytes], book: Book, fresh: Book, cuts: list[int],
                  progress: Callable[[int], None] | None) -> Taken:
    """The lean halves of the pieces (by index), read here and by a forked child, and each
    process's sorted key hashes; nothing when no child could start (no pipe, no fork)."""
    try:
        tokens, give = os.pipe()
        os.write(give, bytes(range(len(cuts) - 1)))  # one byte per piece: taken by one reader
        os.close(give)
    except OSError:
        return {}, []  # no pipe (descriptors exhausted): one process
    try:
        rfd, wfd = os.pipe()
    except OSError:
        os.close(tokens)
        return {}, []
    try:
        pid = os.fork()
    except OSError:  # no memory or process slot for a child: one process
        for fd in (tokens, rfd, wfd):
            os.close(fd)
        return {}, []
    if pid == 0:  # the child: never returns
        os.close(rfd)
        _child(fh.fileno(), cuts, fresh, tokens, wfd)
    os.close(wfd)
    try:
        halves, unions = _take(fh, book, cuts, tokens, progress)
        theirs, their_union = _receive(rfd) or ({}, [])
    finally:
        os.close(rfd)
        os.close(tokens)
        os.waitpid(pid, 0)
    return {**halves, **theirs}, [*unions, *their_union]


def _take(fh: IO[bytes], book: Book, cuts: list[int], tokens: int,
          progress: Callable[[int], None] | None) -> Taken:
    """The lean halves of the pieces this process takes, one at a time until none is left,
    and all their key hashes sorted (None when one repeats) — sorted here, on both cores."""
    import numpy as np

    from daemon.sources import journal_lean as lean

    reader, out = lean.Reader(book), {}
    while token := os.read(tokens, 1):
        i = token[0]
        half = reader.replay(fh, cuts[i], cuts[i + 1], progress)
        if half is not None:
            out[i] = half
    if not out:
        return out, []
    keys = np.sort(np.concatenate([k for h in out.values() for k in h["keys"]]))
    return out, [None if bool((keys[1:] == keys[:-1]).any()) else keys]


def _child(fd: int, cuts: list[int], book: Book, tokens: int, wfd: int) -> None:
    code = 0
    try:
        with open(f"/proc/self/fd/{fd}", "rb") as fh:  # an own file offset
            taken = _take(fh, book, cuts, tokens, None)
        _send(wfd, taken)
    except BaseException:
        code = 1
    os._exit(code)


def _payload(taken: Taken, buffers: Callable[[pickle.PickleBuffer], None]) -> bytes:
    import pickle  # the fork's only (a check of a small journal does not load it)

    return pickle.dumps(taken, protocol=5, buffer_callback=buffers)


def _send(wfd: int, taken: Taken) -> None:
    """The pickled halves, their arrays out of band (written as they are, not copied into
    the pickle): a count, the sizes, the pickle, then each array's bytes."""
    import fcntl  # Linux only, like the fork
    import struct

    arrays: list[pickle.PickleBuffer] = []
    parts = [memoryview(_payload(taken, arrays.append)), *(a.raw() for a in arrays)]
    with contextlib.suppress(OSError):
        fcntl.fcntl(wfd, fcntl.F_SETPIPE_SZ, 1 << 20)  # fewer round trips (best effort)
    sizes = [part.nbytes for part in parts]
    for part in (struct.pack(f"<Q{len(sizes)}Q", len(sizes), *sizes), *parts):
        view = memoryview(part)
        while view:
            view = view[os.write(wfd, view):]


def _receive(rfd: int) -> Taken | None:
    """What the child sent, or None when it sent nothing whole (it failed)."""
    import pickle
    import struct

    try:
        (count,) = struct.unpack("<Q", _read_exact(rfd, 8))
        sizes = struct.unpack(f"<{min(count, 1 << 16)}Q", _read_exact(rfd, 8 * count))
        parts = [_read_exact(rfd, size) for size in sizes]
        taken: Taken = pickle.loads(parts[0], buffers=parts[1:])
    except Exception:
        return None
    return taken


def _read_exact(fd: int, size: int) -> bytearray:
    out = bytearray(size)
    view, got = memoryview(out), 0
    while got < size:
        n = os.readv(fd, [view[got:]])
        if not n:
            raise EOFError("the child's result ended early")
        got += n
    return out


def _merge_all(book: Book, pos: Position, cuts: list[int], halves: dict[int, dict[str, Any]],
               unions: list[Any]) -> bool:
    """Add every piece's half at once when each was read whole, up to the next piece, and
    no key is in two of them (nor in the book); False (nothing changed) otherwise. `unions`:
    each process's sorted key hashes (None: one repeats)."""
    import numpy as np

    ordered = _chained(cuts, halves)
    if ordered is None or pos.offset != cuts[0] or any(u is None for u in unions):
        return False
    keys = np.sort(np.concatenate(unions), kind="stable")  # two sorted runs: one merge
    if bool((keys[1:] == keys[:-1]).any()) or book.keys.meets(keys):
        return False
    balances = _added(book.balances, [h["balances"] for h in ordered])
    if balances is None:
        return False
    for half in ordered:
        _books(book, pos, half)
    book.balances = balances
    book.keys.push_unique(keys)
    return True


def _chained(cuts: list[int], halves: dict[int, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The halves in file order, when each was read whole from its piece's start to the next
    piece's (the last: to the end of its complete lines); else None."""
    out = []
    for i, (start, end) in enumerate(pairwise(cuts)):
        half = halves.get(i)
        if (half is None or not half["whole"] or half["offset"] - half["length"] != start
                or (half["offset"] != end and i < len(cuts) - 2)):
            return None
        out.append(half)
    return out


def _added(balances: dict[Any, Any], more: list[dict[Any, Any]]) -> dict[Any, Any] | None:
    """`balances` plus each of `more` in turn, exactly (None when that cannot be exact)."""
    out = dict(balances)
    try:
        with decimal.localcontext(EXACT):
            for part in more:
                for acc, value in part.items():
                    out[acc] = out.get(acc, 0) + value
    except ArithmeticError:
        return None
    return out


def _merge(book: Book, pos: Position, half: dict[str, Any]) -> bool:
    """Add a half that starts at `pos` to `book` exactly, or change nothing and return False
    (a key of the half was seen before it: the exact path re-reads it, for that line)."""
    import numpy as np

    levels = [np.frombuffer(raw, dtype=np.uint64) for raw in half["keys"]]  # sorted, disjoint
    if any(map(book.keys.meets, levels)):
        return False
    balances = _added(book.balances, [half["balances"]])
    if balances is None:
        return False
    _books(book, pos, half)
    book.balances = balances
    for level in sorted(levels, key=len):  # the largest ends up lowest
        book.keys.push_unique(level)
    return True


def _books(book: Book, pos: Position, half: dict[str, Any]) -> None:
    """A half's counters, history, crc32 and position after those of `book`/`pos`."""
    before = book.counts["events"]
    for name in COUNTERS:
        book.counts[name] += half["counts"][name]
    for start, accounts, deltas in half["history"]:
        book.history.add(before + start, accounts, deltas)
    pos.crc = crc32_combine(pos.crc, half["crc"], half["length"])
    pos.offset, pos.lines = half["offset"], pos.lines + half["lines"]


# ---------------------------------------------------------------- crc32 of two pieces

def _gf2_times(mat: Sequence[int], vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= mat[i]
        vec >>= 1
        i += 1
    return out


def _gf2_square(mat: Sequence[int]) -> list[int]:
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """zlib's crc32_combine: the crc32 of A+B from crc32(A), crc32(B) and len(B)."""
    if len2 <= 0:
        return crc1
    if crc1 == 0:  # the operator below is linear: it leaves a zero crc zero
        return crc2
    bit = 0
    while len2:  # apply len2 zero bytes to crc1: 2**bit zero bytes for each bit set
        if len2 & 1:
            crc1 = _gf2_times(_zero_bytes(bit), crc1)
        len2 >>= 1
        bit += 1
    return crc1 ^ crc2


@cache
def _zero_bytes(k: int) -> tuple[int, ...]:
    """The operator that appends 2**k zero bytes to a crc32."""
    if k:
        return tuple(_gf2_square(list(_zero_bytes(k - 1))))
    op = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    for _ in range(3):
        op = _gf2_square(op)  # 2, 4, 8 zero bits: one zero byte
    return tuple(op)
