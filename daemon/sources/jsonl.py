"""Reading JSONL files line by line with byte offsets, bounded memory, torn tails left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from daemon.sources.regular import fopen_regular

CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based
    offset: int  # byte offset of the line's first byte
    data: bytes | None  # None when the line was longer than the limit (skipped)
    length: int


def iter_lines(path: Path, max_bytes: int = 1 << 20, start: int = 0) -> Iterator[Line]:
    """Complete lines of `path` from byte `start`; an unterminated last line is not yielded.
    A FIFO, device or socket raises NotRegularFileError (an OSError) instead of blocking."""
    with fopen_regular(path) as fh:
        fh.seek(start)
        yield from _split(fh, max_bytes, start)


def _split(fh: Any, max_bytes: int, offset: int) -> Iterator[Line]:
    number, buf, base = 0, b"", offset  # base: absolute offset of buf[0]
    line_start, skipped = offset, -1  # skipped >= 0: inside an oversized line
    while chunk := fh.read(CHUNK):
        buf += chunk
        i = 0
        while (nl := buf.find(b"\n", i)) >= 0:
            number += 1
            if skipped >= 0:
                yield Line(number, line_start, None, skipped + nl)
                skipped = -1
            else:
                size = nl - i
                yield Line(number, line_start, buf[i:nl] if size <= max_bytes else None, size)
            i = nl + 1
            line_start = base + i
        base += i
        buf = buf[i:]
        if skipped >= 0 or len(buf) > max_bytes:  # drop the body of an oversized line
            skipped = max(skipped, 0) + len(buf)
            base += len(buf)
            buf = b""


def parse_object(data: bytes) -> dict[str, Any] | None:
    """The JSON object on a line, or None when the line is not a JSON object."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def last_complete_line(path: Path, max_bytes: int = 1 << 16) -> bytes | None:
    """The last complete (newline-terminated) non-blank line of `path`, read from the end
    (regular files only: anything else raises NotRegularFileError)."""
    with fopen_regular(path) as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - max_bytes))
        tail = fh.read()
    end = tail.rfind(b"\n")
    if end < 0:
        return None
    lines = [ln for ln in tail[:end].split(b"\n") if ln.strip()]
    if not lines or (size > max_bytes and len(lines) == 1 and tail[:end].count(b"\n") == 0):
        return None
    return lines[-1]
