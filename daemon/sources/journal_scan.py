"""Read a journal file from a position: complete lines go to a Book, the rest is a tail.

Memory stays bounded: the file is read in chunks, and a line longer than the book's
`max_line` is skipped while it streams past (reported as oversized once it ends). A rolling
crc32 over every complete line fingerprints the verified bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from msgspec import Raw

from daemon.jsondepth import too_deep
from daemon.sources.journal_book import Book
from daemon.sources.journal_parse import DEEP, FAST_ERRORS, Corrupt, Parser

CHUNK = 1 << 20
PROGRESS_EVERY = 16 << 20


@dataclass
class Position:
    """Where reading stopped: after `lines` complete lines ending at byte `offset`."""

    offset: int = 0
    lines: int = 0
    crc: int = 0


@dataclass
class _Skip:
    start: int
    size: int
    crc: int


def scan(fh: IO[bytes], pos: Position, book: Book, *, limit: int | None = None,
         progress: Callable[[int], None] | None = None, chunk: int = CHUNK) -> int:
    """Apply the complete lines after `pos` (up to byte `limit`); returns the tail's size."""
    fh.seek(pos.offset)
    buf, skip, reported = b"", None, pos.offset
    read_at = pos.offset
    while True:
        want = chunk if limit is None else min(chunk, limit - read_at)
        data = fh.read(want) if want > 0 else b""
        if not data:
            break
        read_at += len(data)
        if skip is not None:
            skip, data = _skip_on(skip, data, pos, book)
            if skip is not None:
                continue
        else:
            data = buf + data if buf else data
        buf = _lines(data, pos, book)
        if len(buf) > book.max_line:
            skip, buf = _Skip(pos.offset, len(buf), zlib.crc32(buf, pos.crc)), b""
        if progress is not None and read_at - reported >= PROGRESS_EVERY:
            progress(read_at)
            reported = read_at
    if progress is not None:
        progress(read_at)
    return len(buf) if skip is None else skip.size


def _lines(data: bytes, pos: Position, book: Book) -> bytes:
    """Feed the complete lines of `data`; returns the unterminated rest."""
    end = data.rfind(b"\n")
    if end < 0:
        return data
    body = data[:end]
    if body.isascii():
        count = book.feed_body(body, pos.lines + 1, pos.offset)
    else:
        lines = body.split(b"\n")
        _feed_checked(lines, pos, book)
        count = len(lines)
    # the fingerprint and the position move together, once the lines are applied
    pos.crc = zlib.crc32(memoryview(data)[: end + 1], pos.crc)
    pos.lines += count
    pos.offset += end + 1
    return data[end + 1:]


def _feed_checked(lines: list[bytes], pos: Position, book: Book) -> None:
    """Feed lines, sending those with invalid UTF-8 to the corrupt-line path."""
    line_no, offset, run, run_at = pos.lines + 1, pos.offset, [], (pos.lines + 1, pos.offset)
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            book.feed(run, *run_at)
            book.feed_slow(line, line_no, offset)
            run = []
            run_at = (line_no + 1, offset + len(line) + 1)
        else:
            run.append(line)
        line_no += 1
        offset += len(line) + 1
    book.feed(run, *run_at)


def _skip_on(skip: _Skip, data: bytes, pos: Position, book: Book) -> tuple[_Skip | None, bytes]:
    """Stream past an oversized line; when it ends, report it and return the bytes after it."""
    nl = data.find(b"\n")
    if nl < 0:
        skip.size += len(data)
        skip.crc = zlib.crc32(data, skip.crc)
        return skip, b""
    book.oversized(pos.lines + 1, skip.start, skip.size + nl)
    pos.crc = zlib.crc32(memoryview(data)[: nl + 1], skip.crc)
    pos.offset = skip.start + skip.size + nl + 1
    pos.lines += 1
    return None, data[nl + 1:]


def crc_of(fh: IO[bytes], start: int, end: int, crc: int = 0, chunk: int = CHUNK) -> int:
    """crc32 of bytes [start, end) of a file (continuing `crc`)."""
    fh.seek(start)
    left = end - start
    while left > 0:
        data = fh.read(min(chunk, left))
        if not data:
            break
        crc = zlib.crc32(data, crc)
        left -= len(data)
    return crc


def find_first(fh: IO[bytes], parser: Parser, keys: set[bytes], limit: int,
               chunk: int = CHUNK) -> dict[bytes, tuple[int, int]]:
    """The first (line, offset) of each raw key among the complete lines before `limit`.

    A chunk is decoded only when it contains one of the keys' exact text."""
    found: dict[Any, tuple[int, int]] = {}
    pos, buf = Position(), b""
    fh.seek(0)
    while len(found) < len(keys) and pos.offset < limit:
        data = fh.read(min(chunk, limit - pos.offset - len(buf)))
        if not data:
            break
        data = buf + data
        end = data.rfind(b"\n")
        if end < 0:
            buf = data
            continue
        body = data[:end]
        if any(key in body for key in keys):
            _first_in(body, pos, parser, keys, found)
        pos.lines += body.count(b"\n") + 1
        pos.offset += end + 1
        buf = data[end + 1:]
    return found


def _first_in(body: bytes, pos: Position, parser: Parser, keys: set[bytes],
              found: dict[bytes, tuple[int, int]]) -> None:
    offset = pos.offset
    for i, line in enumerate(body.split(b"\n")):
        try:
            if too_deep(line):  # a corrupt line to the book, so it holds no key
                raise Corrupt(DEEP)
            key = parser.decode(line).k
        except FAST_ERRORS:
            try:
                key = parser.slow(line).k
            except Corrupt:
                key = None
        except Corrupt:
            key = None
        key = bytes(key) if key.__class__ is Raw else None
        if key in keys and key not in found:
            found[key] = (pos.lines + 1 + i, offset)
        offset += len(line) + 1
