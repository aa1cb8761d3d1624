"""daemon/lock.py: one daemon per runtime folder."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.errors import AlreadyRunningError
from daemon.lock import InstanceLock

HOLDER = ("import sys; from pathlib import Path; from daemon.lock import InstanceLock; "
          "lock = InstanceLock(Path(sys.argv[1])); lock.acquire(); print('held', flush=True); "
          "sys.stdin.read()")


@contextlib.contextmanager
def _holder(runtime: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock on `runtime` until the block ends (it is then killed)."""
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(runtime)], text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          cwd=Path(__file__).resolve().parents[2]) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        try:
            yield proc
        finally:
            proc.kill()


def test_second_lock_names_the_holder(tmp_path: Path) -> None:
    """A second daemon on the same runtime folder is refused with the holder's pid."""
    with _holder(tmp_path) as proc, pytest.raises(AlreadyRunningError, match=f"pid {proc.pid}"):
        InstanceLock(tmp_path).acquire()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    """After kill -9 of the holder, the lock file no longer blocks a new daemon."""
    with _holder(tmp_path) as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    lock = InstanceLock(tmp_path)
    lock.acquire()
    assert (tmp_path / "burnin.lock").read_text() == str(os.getpid())
    lock.release()


def test_release_lets_the_next_daemon_in(tmp_path: Path) -> None:
    """A released lock can be taken again in the same runtime folder."""
    first = InstanceLock(tmp_path)
    first.acquire()
    first.release()
    second = InstanceLock(tmp_path / ".")
    second.acquire()
    second.release()
