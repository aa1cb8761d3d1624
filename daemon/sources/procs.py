"""Watched processes (`[[process]]`): find one by pidfile or command-line regex and sample it.

Reading is separated from deciding (STYLE.md §2): `parse_pid` is pure; `look` does the psutil
I/O for one target and returns a `ProcLook`, never raising for a bad pidfile, a dead process or
a /proc entry that cannot be read. `look` is synchronous; callers run it in a worker thread so
that a slow /proc walk never blocks the event loop.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from daemon.config import ProcessCfg
from daemon.lazy import lazy
from daemon.sources.regular import read_regular

psutil = lazy("psutil")  # on first use: a check without host or process rules never imports it

UP, DOWN, UNREADABLE, BAD_PIDFILE = "up", "down", "unreadable", "bad_pidfile"
_PIDFILE_READ_MAX = 4096


@dataclass(frozen=True, slots=True)
class ProcLook:
    """What one look at a watched process saw. `cpu_s` is user+system CPU seconds so far."""

    name: str
    status: str
    at: float  # real monotonic seconds of the look
    pid: int | None = None
    create_time: float | None = None
    rss_bytes: int | None = None
    cpu_s: float | None = None
    reason: str = ""

    @property
    def identity(self) -> tuple[int, float] | None:
        """(pid, start time): a change means the process was restarted."""
        if self.pid is None or self.create_time is None:
            return None
        return (self.pid, self.create_time)


def parse_pid(text: str) -> int | None:
    """The pid written in a pidfile's text (first line, decimal), None when it is not one."""
    lines = text.strip().splitlines()
    first = lines[0].strip() if lines else ""
    if not first.isascii() or not first.isdigit() or len(first) > 10:
        return None
    pid = int(first)
    return pid if 0 < pid < 2**31 else None


def read_pidfile(path: Path) -> tuple[int | None, str, str]:
    """(pid, status, reason): a missing pidfile means down; garbage means bad_pidfile."""
    try:
        raw = read_regular(path, _PIDFILE_READ_MAX)
    except FileNotFoundError:
        return None, DOWN, f"pidfile {path} does not exist"
    except OSError as exc:
        return None, BAD_PIDFILE, f"cannot read pidfile {path}: {exc.strerror}"
    pid = parse_pid(raw.decode("utf-8", "replace"))
    if pid is None:
        return None, BAD_PIDFILE, f"pidfile {path} does not hold a pid: {raw[:40]!r}"
    return pid, UP, ""


def find_by_cmdline(pattern: re.Pattern[str], hint: tuple[int, float] | None) -> int | None:
    """Pid of the oldest process (not burnin itself) whose command line matches `pattern`.

    `hint` is the identity seen last time: when it is still alive it is kept without walking
    /proc again, which keeps a steady-state look cheap.
    """
    if hint is not None and _alive_with(hint):
        return hint[0]
    best: tuple[float, int] | None = None
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        info = proc.info
        cmd = " ".join(info.get("cmdline") or [])
        if info["pid"] == me or not cmd or not pattern.search(cmd):
            continue
        key = (info.get("create_time") or 0.0, info["pid"])
        best = key if best is None or key < best else best
    return best[1] if best else None


def _alive_with(identity: tuple[int, float]) -> bool:
    try:
        proc = psutil.Process(identity[0])
        return proc.create_time() == identity[1] and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, OSError):
        return False


def look(target: ProcessCfg, root: Path, now_mono: float,
         hint: tuple[int, float] | None = None) -> ProcLook:
    """One look at `target` (pidfile relative to `root`); never raises for what it observes."""
    if target.pidfile:
        pid, status, reason = read_pidfile(root / target.pidfile)
        if pid is None:
            return ProcLook(target.name, status, now_mono, reason=reason)
    else:
        pid = find_by_cmdline(re.compile(target.cmdline), hint)
        if pid is None:
            return ProcLook(target.name, DOWN, now_mono,
                            reason=f"no process matches {target.cmdline!r}")
    return sample(target.name, pid, now_mono)


def sample(name: str, pid: int, now_mono: float) -> ProcLook:
    """Start time, RSS and CPU seconds of `pid`; DOWN if gone or a zombie."""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                return ProcLook(name, DOWN, now_mono, pid=pid, reason=f"pid {pid} is a zombie")
            created = proc.create_time()
            rss = proc.memory_info().rss
            times = proc.cpu_times()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return ProcLook(name, DOWN, now_mono, pid=pid, reason=f"pid {pid} is not running")
    except (psutil.AccessDenied, PermissionError, OSError) as exc:
        return ProcLook(name, UNREADABLE, now_mono, pid=pid,
                        reason=f"cannot read /proc entries of pid {pid}: {exc}")
    return ProcLook(name, UP, now_mono, pid=pid, create_time=created, rss_bytes=rss,
                    cpu_s=times.user + times.system)
