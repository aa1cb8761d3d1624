"""Disk reads of the job folders: one `os.scandir` listing per folder, small bounded reads.

These functions run in a worker thread; they return plain data and never raise for a file
that vanished between listing and reading (that is normal in a busy queue).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from daemon.sources.jobs_index import Obs
from daemon.sources.regular import open_regular

READ_CAP = 1 << 20  # a job, claim or result file larger than this is judged unreadable
CLAIM_CAP = 64 << 10


def list_folder(path: Path | str) -> dict[str, int]:
    """name -> mtime_ns of the regular files in `path`; raises OSError when unusable."""
    out: dict[str, int] = {}
    with os.scandir(path) as it:
        for entry in it:
            try:
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:
                continue
            out[entry.name] = st.st_mtime_ns
    return out


def read_bytes(path: str, cap: int) -> bytes | None:
    """Up to `cap` + 1 bytes of `path`; None when it cannot be opened (gone, denied, turned
    into a FIFO or device since it was listed)."""
    try:
        fd = open_regular(path)
    except OSError:
        return None
    try:
        return os.read(fd, cap + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def look(root: Path | str, folder: str, name: str, kind: str,
         known: tuple[int, float] | None = None) -> Obs | None:
    """Stat (unless `known` from a listing) and read one file; None when gone or not a file."""
    path = os.path.join(root, folder, name)
    if known is None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        known = (st.st_mtime_ns, _ctime(st))
    data = None
    if kind != "failed":
        cap = CLAIM_CAP if kind == "claims" else READ_CAP
        data = read_bytes(path, cap)
        if data is None and known is not None and not os.path.lexists(path):
            return None
        if data is not None and len(data) > cap:
            data = b""  # oversized: judged unreadable (jobs/results), plain marker (claims)
    return Obs(folder, name, known[0], known[1], data)


def look_many(root: Path | str, items: list[tuple[str, str, str]],
              known: list[tuple[int, float] | None] | None = None,
              ) -> list[tuple[str, str, Obs | None]]:
    """`look` for each (kind, folder, name): (kind, name, obs or None)."""
    stats = known if known is not None else [None] * len(items)
    return [(kind, name, look(root, folder, name, kind, st))
            for (kind, folder, name), st in zip(items, stats, strict=True)]


def _ctime(st: os.stat_result) -> float:
    """Claim time fallback of SPEC §2: st_ctime on POSIX, st_mtime elsewhere."""
    return st.st_ctime if os.name == "posix" else st.st_mtime
