"""Whole-process figures for the benchmarks: wall, CPU and peak RSS of one command, and the
earlier commit they are compared with (a git worktree)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], code: Path = REPO) -> dict[str, float]:
    """Wall, CPU (user+system) and peak RSS (MiB) of one process and the children it reaped.

    The command runs under GNU time, for its peak RSS (%M: time's wait4 is clean, while ours
    would count this benchmark's own pages shared with a vforked child before exec); wall
    (perf_counter) and CPU (our wait4 on time, which includes what it reaped) are measured
    here, at microsecond resolution (GNU time prints hundredths)."""
    gnu = shutil.which("time", path="/usr/bin:/bin")
    if gnu is None:
        raise RuntimeError("GNU time (/usr/bin/time) is needed for whole-process figures")
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([gnu, "-f", "%M %x", *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, cwd=tempfile.gettempdir())
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _pid, _status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = 0  # reaped above
    rss, status = err.strip().splitlines()[-1].split()
    if int(status) not in (0, 1, 2) or (cmd[1] == "-c" and int(status) != 0):
        raise RuntimeError(f"{cmd[:6]}: exit {status}: {err[-500:]!r}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss": int(rss) / 1024}


def checkout(ref: str) -> Path:
    """A detached checkout of `ref` (a git worktree in a temporary folder): the same-run
    baseline of a `--before REF` benchmark; `remove` it afterwards."""
    where = Path(tempfile.mkdtemp(prefix="bench-before-")) / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), ref],
                   check=True, capture_output=True)
    return where


def remove(where: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)],
                   check=False, capture_output=True)
