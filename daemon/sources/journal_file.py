"""Which journal file is open, and whether it is still the one already verified.

`JournalFile` holds the file's identity (st_dev, st_ino), the open handle and the fingerprints
of the verified range (crc32 of its first and last MARK bytes; the rolling crc32 of all of it
is `Position.crc`, kept by the scan). It reads no lines: `follow(pos)` says what happened to the
file since the last pass as a `Change`, and the replay (sources/journal.py) acts on it, as
Vector separates its file fingerprinter from its reader.

Kinds of change: `same` (the verified bytes are intact); `moved` (a new identity whose first
`pos.offset` bytes are the verified ones: the writer replaced the file by a longer copy);
`rotated` (a new identity while the old file still has a name: the caller finishes the old one
through `finish`, then the new one is read from byte 0); `replaced`, `shrank`, `changed`
(append-only broken: the caller reports it and re-reads from 0).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

from daemon.sources.journal_scan import Position, crc_of
from daemon.sources.regular import fopen_regular

MARK = 4096  # bytes re-checked at the head and tail of the verified range on every run

Kind = Literal["same", "moved", "rotated", "replaced", "shrank", "changed"]
BROKEN = ("replaced", "shrank", "changed")  # the kinds that break append-only


class Change(NamedTuple):
    """What happened to the journal file since the last pass (`size`: for `shrank`)."""

    kind: Kind
    size: int = 0


class JournalFile:
    """The open journal: identity, handle and fingerprints of the verified bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: IO[bytes] | None = None
        self.ident: tuple[int, int] | None = None
        self.marks: dict[str, list[int]] = {}

    def follow(self, pos: Position, finish: Callable[[IO[bytes]], None]) -> Change:
        """Open or re-check the file against `pos`; raises OSError when it cannot be opened.

        On `rotated`, `finish(old)` reads the rest of the old file before the new one is
        adopted; after `shrank`/`changed` the caller calls `reopen`."""
        st = os.stat(self.path)
        ident = (st.st_dev, st.st_ino)
        if self.fh is None and self.ident in (None, ident):
            self.fh, self.ident = fopen_regular(self.path), ident
        if ident != self.ident:
            return self._new_identity(ident, pos, finish)
        if st.st_size < pos.offset:
            return Change("shrank", st.st_size)
        if not self.marks_ok(self.fh, pos.offset):
            return Change("changed")
        return Change("same")

    def _new_identity(self, ident: tuple[int, int], pos: Position,
                      finish: Callable[[IO[bytes]], None]) -> Change:
        new = fopen_regular(self.path)
        if crc_of(new, 0, pos.offset) == pos.crc and _size(new) >= pos.offset:
            self._adopt(new, ident)  # the same history under a new inode
            return Change("moved")
        old = self.fh or self._find_rotated(pos.offset)
        try:
            rotated = old is not None and _linked(old) and self.marks_ok(old, pos.offset)
            if rotated:
                assert old is not None
                finish(old)
        finally:
            if old is not None and old is not self.fh:
                old.close()
        self._adopt(new, ident)
        return Change("rotated" if rotated else "replaced")

    def _adopt(self, new: IO[bytes], ident: tuple[int, int]) -> None:
        self.close()
        self.fh, self.ident = new, ident

    def _find_rotated(self, offset: int) -> IO[bytes] | None:
        """After a restart: the old journal renamed beside the new one (same inode)."""
        if self.ident is None or not offset:
            return None
        try:
            with os.scandir(self.path.parent) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)
                    if (st.st_dev, st.st_ino) == self.ident and entry.name != self.path.name:
                        return fopen_regular(entry.path)
        except OSError:
            return None
        return None

    def reopen(self) -> None:
        """Open the file at its path afresh (after append-only was broken)."""
        self.close()
        self.fh = fopen_regular(self.path)
        st = os.fstat(self.fh.fileno())
        self.ident = (st.st_dev, st.st_ino)

    def set_marks(self, fh: IO[bytes], end: int) -> None:
        """Fingerprint the head and tail of the verified range [0, end) of `fh`."""
        head, start = min(MARK, end), end - min(MARK, end)
        self.marks = {"head": [head, crc_of(fh, 0, head)],
                      "tail": [start, crc_of(fh, start, end)]}

    def marks_ok(self, fh: IO[bytes] | None, end: int) -> bool:
        """Whether the head and tail fingerprints still match the bytes of `fh`."""
        if fh is None:
            return False
        head = self.marks.get("head", [0, 0])
        tail = self.marks.get("tail", [0, 0])
        return crc_of(fh, 0, head[0]) == head[1] and crc_of(fh, tail[0], end) == tail[1]

    def size(self) -> int:
        return _size(self.fh) if self.fh is not None else 0

    def mtime(self) -> float:
        assert self.fh is not None
        return os.fstat(self.fh.fileno()).st_mtime

    def state(self) -> dict[str, Any]:
        """What the saved state keeps of the file (keys of the state file's `extra`)."""
        return {"ident": self.ident, "marks": self.marks}

    def restore(self, extra: dict[str, Any]) -> None:
        self.ident = tuple(extra["ident"]) if extra.get("ident") else None  # type: ignore[assignment]
        self.marks = dict(extra.get("marks") or {})

    def forget(self) -> None:
        """Forget the identity (a discarded state): the next pass opens the file afresh."""
        self.ident, self.marks = None, {}

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _size(fh: IO[bytes]) -> int:
    return os.fstat(fh.fileno()).st_size


def _linked(fh: IO[bytes]) -> bool:
    """Whether the open file still has a name (a rotated file, not a deleted one)."""
    return os.fstat(fh.fileno()).st_nlink > 0
