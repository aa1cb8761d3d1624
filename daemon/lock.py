"""One daemon per runtime folder: an exclusive, non-blocking lock on `runtime/burnin.lock`.

The operating system drops the lock when the process dies (even by kill -9), so a stale lock
file never blocks a restart.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from daemon.errors import AlreadyRunningError


class InstanceLock:
    def __init__(self, runtime_dir: Path) -> None:
        self.path = runtime_dir / "burnin.lock"
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        if not _try_lock(fh):
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise AlreadyRunningError(
                f"another burnin daemon (pid {holder}) is using the runtime folder "
                f"{self.path.parent}; stop it first or use another daemon.runtime_dir")
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _try_lock(fh: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
