"""Incremental tailing of log files across rotation, with bounded line length.

`LineTail` follows every file matching some globs under a root and hands each new *complete*
line (at most `max_line_bytes` of it; the rest of a longer line is skipped without being held
in memory) to a callback. It survives both rotation styles of logrotate:

- **rename** (`create`): the path now names another inode. The old file is drained to its end
  through the descriptor still open, kept one more scan (a writer may still append before it
  reopens), then closed; the new file is read from byte 0. A renamed file that matches the
  globs again (`app-20260101.log`) is recognised by inode and never read twice.
- **copytruncate**: same inode, but smaller than the offset read, or its first bytes changed.
  The lines appended since the last scan live in the copy: a sibling whose first bytes match
  is read from the old offset to its end, then the truncated file from 0.

A file present at the first scan is read from its end in the daemon (`from_start=False`: old
lines have no time) and from byte 0 in a one-shot check. Reading is synchronous; callers run
`scan` in a worker thread.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.sources.regular import kind, open_regular, read_regular, undecodable

CHUNK = 1 << 16
HEAD = 256
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")
OnLine = Callable[[bytes], None]


@dataclass
class Cursor:
    """Where one open file has been read to, and the partial line at its end."""

    path: Path
    fd: int
    ident: tuple[int, int]  # (st_dev, st_ino)
    offset: int = 0
    head: bytes = b""
    carry: bytearray = field(default_factory=bytearray)
    carry_len: int = 0  # bytes of the partial line, including those not kept


@dataclass
class TailStats:
    lines: int = 0
    long_lines: int = 0
    rotations: int = 0
    truncations: int = 0
    unrecovered: int = 0  # truncations whose copy was not found: unread lines may be lost


class LineTail:
    """Follows files matching `patterns` (globs relative to `root`)."""

    def __init__(self, root: Path, patterns: list[str], max_line_bytes: int,
                 from_start: bool) -> None:
        self.root = root
        self.patterns = patterns
        self.max_line = max_line_bytes
        self.from_start = from_start
        self.cursors: dict[Path, Cursor] = {}
        self.retired: list[Cursor] = []
        self.stats = TailStats()
        self.errors: dict[str, str] = {}
        self._first = True
        self.saved: dict[str, Any] = {}

    def paths(self) -> list[Path]:
        """Regular files matching the globs; a FIFO, device or socket that matches is an
        error for that path (a folder that matches is skipped)."""
        found: set[Path] = set()
        for pattern in self.patterns:
            found.update(self.root / p for p in glob.glob(pattern, root_dir=self.root))
        out = []
        for path in sorted(found):
            escaped = undecodable(str(path))
            if escaped is not None:
                self.errors[escaped] = "file name is not valid UTF-8"
                continue
            with contextlib.suppress(OSError):
                mode = os.stat(path).st_mode
                if stat.S_ISREG(mode):
                    out.append(path)
                elif not stat.S_ISDIR(mode):
                    self.errors[str(path)] = f"is {kind(mode)}, not a regular file"
        return out

    def scan(self, on_line: OnLine) -> None:
        """Read every new complete line of every followed file into `on_line`."""
        self.errors = {}
        for old in self.retired:
            with contextlib.suppress(OSError):
                if not self._truncated(old, os.fstat(old.fd).st_size):
                    self._read(old, on_line)
            os.close(old.fd)
        self.retired = []
        current = self.paths()
        for path in [p for p in self.cursors if p not in current]:
            self._retire(self.cursors.pop(path), on_line)
        for path in current:
            try:
                self._follow(path, on_line)
            except OSError as exc:
                self.errors[str(path)] = exc.strerror or str(exc)
        self._first = False

    def _follow(self, path: Path, on_line: OnLine) -> None:
        st = os.stat(path)
        ident = (st.st_dev, st.st_ino)
        cur = self.cursors.get(path)
        if cur is not None and cur.ident != ident:
            self.stats.rotations += 1
            self._retire(self.cursors.pop(path), on_line)
            cur = None
        if cur is None:
            cur = self._adopt(path, ident) or self._open(path, ident, st.st_size)
            self.cursors[path] = cur
        elif self._truncated(cur, st.st_size):
            self._recover(cur, on_line)
        self._read(cur, on_line)

    def _adopt(self, path: Path, ident: tuple[int, int]) -> Cursor | None:
        """A file we already follow under another name (renamed into the globs)."""
        for group in (self.retired, list(self.cursors.values())):
            for cur in group:
                if cur.ident == ident:
                    if cur in self.retired:
                        self.retired.remove(cur)
                    cur.path = path
                    return cur
        return None

    def _open(self, path: Path, ident: tuple[int, int], size: int) -> Cursor:
        fd = open_regular(path)
        start = size if (self._first and not self.from_start) else 0
        start = self._resume_offset(path, fd, ident, size, start)
        cur = Cursor(path, fd, ident, offset=start)
        cur.head = os.pread(fd, min(HEAD, start), 0) if start else b""
        return cur

    def _resume_offset(self, path: Path, fd: int, ident: tuple[int, int], size: int,
                       default: int) -> int:
        """The saved offset when the saved file is still there, unchanged up to it."""
        saved = self.saved.pop(str(path), None)
        if not isinstance(saved, dict) or not self._first:
            return default
        try:
            head, offset = bytes.fromhex(saved["head"]), int(saved["offset"])
            same = tuple(saved["ident"]) == ident and 0 <= offset <= size
        except (KeyError, TypeError, ValueError):
            return default
        return offset if same and os.pread(fd, len(head), 0) == head else default

    def restore(self, state: object) -> None:
        """Resume from `state()` saved by an earlier run (ignored when malformed)."""
        self.saved = dict(state) if isinstance(state, dict) else {}

    def _retire(self, cur: Cursor, on_line: OnLine) -> None:
        """Drain a file that left its path; keep it open for one more scan."""
        self._read(cur, on_line)
        self.retired.append(cur)

    def _truncated(self, cur: Cursor, size: int) -> bool:
        if size < cur.offset:
            return True
        return bool(cur.head) and os.pread(cur.fd, len(cur.head), 0) != cur.head

    def _recover(self, cur: Cursor, on_line: OnLine) -> None:
        """copytruncate: finish the old content from the copy, then restart at 0."""
        self.stats.truncations += 1
        copy = self._find_copy(cur)
        if copy is None or not self._read_copy(copy, cur, on_line):
            self.stats.unrecovered += 1
        cur.offset, cur.head, cur.carry, cur.carry_len = 0, b"", bytearray(), 0

    def _read_copy(self, copy: Path, cur: Cursor, on_line: OnLine) -> bool:
        try:
            fd = open_regular(copy)
        except OSError:
            return False
        try:
            self._read(Cursor(copy, fd, (0, 0), cur.offset, cur.head, cur.carry,
                              cur.carry_len), on_line)
        finally:
            os.close(fd)
        return True

    def _find_copy(self, cur: Cursor) -> Path | None:
        stem = cur.path.name.removesuffix(".log")
        best: tuple[float, Path] | None = None
        for sib in cur.path.parent.glob(f"{glob.escape(stem)}*"):
            if sib == cur.path or sib.name.endswith(_COMPRESSED):
                continue
            with contextlib.suppress(OSError):
                st = sib.stat()
                if st.st_size >= cur.offset and _head_of(sib, len(cur.head)) == cur.head:
                    best = max(best, (st.st_mtime, sib)) if best else (st.st_mtime, sib)
        return best[1] if best else None

    def _read(self, cur: Cursor, on_line: OnLine) -> None:
        """Read from `cur.offset` to the end, emitting complete lines."""
        while True:
            data = os.pread(cur.fd, CHUNK, cur.offset)
            if not data:
                return
            if len(cur.head) < HEAD and cur.offset < HEAD:
                cur.head = (cur.head + data)[:HEAD] if cur.offset == len(cur.head) else cur.head
            cur.offset += len(data)
            self._split(cur, data, on_line)

    def _split(self, cur: Cursor, data: bytes, on_line: OnLine) -> None:
        start = 0
        while (nl := data.find(b"\n", start)) >= 0:
            self._keep(cur, data[start:nl])
            self._emit(cur, on_line)
            start = nl + 1
        self._keep(cur, data[start:])

    def _keep(self, cur: Cursor, part: bytes) -> None:
        room = self.max_line - len(cur.carry)
        if room > 0:
            cur.carry += part[:room]
        cur.carry_len += len(part)

    def _emit(self, cur: Cursor, on_line: OnLine) -> None:
        self.stats.lines += 1
        if cur.carry_len > self.max_line:
            self.stats.long_lines += 1
        on_line(bytes(cur.carry))
        cur.carry.clear()
        cur.carry_len = 0

    def close(self) -> None:
        for cur in [*self.cursors.values(), *self.retired]:
            with contextlib.suppress(OSError):
                os.close(cur.fd)
        self.cursors.clear()
        self.retired = []

    def state(self) -> dict[str, Any]:
        """Offsets to resume from after a restart (complete lines only)."""
        return {str(p): {"ident": list(c.ident), "offset": c.offset - c.carry_len,
                         "head": c.head.hex()} for p, c in self.cursors.items()}


def _head_of(path: Path, n: int) -> bytes:
    return read_regular(path, n)
