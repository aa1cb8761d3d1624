"""Open observed files only when they are regular files (SPEC §5: a FIFO or a device where a
file is expected is a finding, never a hang).

Opening a FIFO for reading blocks until a writer appears, and reading a FIFO or a character
device blocks until it has data: on the event loop that stops status.json and SIGTERM, in a
worker thread it pins the thread for good. `open_regular` refuses anything but a regular file
before and after opening (opened O_NONBLOCK, so the open itself cannot block), raising
`NotRegularFileError`, an OSError whose `strerror` names what was found: callers that turn
OSError into `source.unavailable` report the reason without knowing about it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISDIR, "a folder"))
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class NotRegularFileError(OSError):
    """The path exists but is not a regular file (FIFO, device, socket, folder)."""


def undecodable(name: str) -> str | None:
    """None for a name that is valid UTF-8; else the name with its bad bytes escaped
    (`bad\\xff.json`), safe for JSON, logs and terminals. Python hands such names over with
    surrogate escapes (os.scandir, glob); orjson and the alert store refuse those."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def kind(mode: int) -> str:
    """What a non-regular `st_mode` is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def refuse(path: Path | str, mode: int) -> None:
    """Raise NotRegularFileError unless `mode` is a regular file's."""
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(errno.EINVAL, f"is {kind(mode)}, not a regular file",
                                  str(path))


def open_regular(path: Path | str) -> int:
    """A blocking read-only fd on the regular file `path`; never blocks on a FIFO."""
    refuse(path, os.stat(path).st_mode)
    fd = os.open(path, _FLAGS)
    try:
        refuse(path, os.fstat(fd).st_mode)  # replaced between stat and open
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def fopen_regular(path: Path | str) -> IO[bytes]:
    """`open(path, "rb")` for regular files only."""
    return os.fdopen(open_regular(path), "rb")


def read_regular(path: Path | str, cap: int | None = None) -> bytes:
    """The bytes of the regular file `path` (at most `cap` when given)."""
    with fopen_regular(path) as fh:
        return fh.read() if cap is None else fh.read(cap)
