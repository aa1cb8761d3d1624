"""Small file primitives of the reference system: complete-line appends and atomic replaces.

The simulator does not fsync (it is a test system, not a durable one); renames still make
every replace atomic for readers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def append_line(path: Path, data: bytes) -> None:
    """Append `data` plus a newline with one write on an O_APPEND descriptor."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data + b"\n")
    finally:
        os.close(fd)


def append_json(path: Path, obj: Any) -> None:
    append_line(path, dumps(obj))


def replace_bytes(path: Path, data: bytes) -> None:
    """Replace `path` atomically: write a hidden temp file beside it, then rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def replace_json(path: Path, obj: Any) -> None:
    replace_bytes(path, dumps(obj) + b"\n")


def read_json(path: Path) -> Any:
    """The JSON value in `path`, or None when it is missing or does not parse."""
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def complete_lines(path: Path) -> Iterator[bytes]:
    """Every newline-terminated line of `path` (an unterminated tail is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    lines = data.split(b"\n")
    yield from lines[:-1]


def json_objects(path: Path) -> Iterator[dict[str, Any]]:
    """The complete lines of `path` that parse as JSON objects, in order."""
    for line in complete_lines(path):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            yield obj
