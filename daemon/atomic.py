"""Durable files replaced atomically (STYLE.md §7): temp file, fsync, rename, fsync folder.

A reader never sees a partial file. On Windows, `os.replace` fails while another process has
the target open without FILE_SHARE_DELETE; that is retried a bounded number of times.

Appends to line files (`logs/*.jsonl`) are whole or absent (SPEC §5 "no log or alert line is
ever written half"): `append_whole` loops over short writes and, when a write fails part-way
(disk full, file size limit), cuts the file back to where the record began.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from pathlib import Path

import orjson

_WINDOWS = sys.platform == "win32"


def write_bytes(path: Path, data: bytes, *, retries: int = 10, retry_delay_s: float = 0.05,
                mode: int | None = None) -> None:
    """Replace `path` with `data` atomically and durably (`mode`: permission bits of the new
    file, e.g. 0o644 for a file other users read; default: mkstemp's 0600)."""
    import tempfile  # here: `burnin check` writes nothing and never imports it

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _replace(tmp, path, retries, retry_delay_s)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_json(path: Path, obj: object) -> None:
    """Replace `path` with `obj` as indented JSON (non-str keys and dataclasses allowed)."""
    opts = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
    write_bytes(path, orjson.dumps(obj, option=opts, default=str))


def _replace(tmp: str, path: Path, retries: int, delay_s: float) -> None:
    for attempt in range(retries + 1):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if not _WINDOWS or attempt == retries:
                raise
            time.sleep(delay_s)  # sharing violation: a reader holds the file open


def append_whole(fd: int, data: bytes) -> None:
    """Append `data` to the O_APPEND file `fd` whole, or leave the file as it was and raise.

    `os.write` may write less than asked (a pipe, a nearly full disk, RLIMIT_FSIZE, a signal):
    the rest is written in a loop. If a later write fails, the bytes already written are cut
    off again, so a reader never sees a torn record glued to the next one.
    """
    start = os.fstat(fd).st_size
    view, done = memoryview(data), 0
    try:
        while done < len(data):
            n = os.write(fd, view[done:])
            if n <= 0:
                raise OSError(errno.EIO, "write made no progress")
            done += n
    except BaseException:
        if done:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
        raise


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (no-op where folders cannot be opened)."""
    if _WINDOWS:
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
