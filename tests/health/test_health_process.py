"""The process rule on real child processes: down, restart, bad pidfiles, zombies, RSS trend."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from daemon.checks.base import Env, Tick
from daemon.checks.process import ProcessRule
from daemon.clock import FakeClock, SystemClock
from daemon.model import Finding, Severity, verdict_of
from daemon.sources.procs import find_by_cmdline

Spawn = Callable[[str], subprocess.Popen[bytes]]
IDLE = "import time\nwhile True: time.sleep(0.05)"


def codes(findings: list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)


async def run_once(rule: ProcessRule, env: Env) -> tuple[list[Finding], dict]:
    tick = Tick("health", env.clock.time())
    out = await rule.run(tick)
    return out, tick.metrics.get("processes", {})


def pidfile_target(root: Path, pid: int | str, name: str = "worker") -> dict:
    (root / "runtime/worker.pid").write_text(f"{pid}\n")
    return {"name": name, "pidfile": "runtime/worker.pid"}


@pytest.mark.anyio
async def test_live_process_by_pidfile_is_up(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """A live pidfile process gives no finding and its pid and RSS as metrics."""
    child = spawn(IDLE)
    env = make_env(FakeClock(), process=[pidfile_target(seed_tree, child.pid)])
    out, metrics = await run_once(ProcessRule(env), env)
    assert out == []
    assert metrics["worker"]["pid"] == child.pid and metrics["worker"]["rss_bytes"] > 0


@pytest.mark.anyio
async def test_dead_process_is_down_and_red_in_oneshot(make_env, spawn: Spawn,
                                                       seed_tree: Path) -> None:
    """A pidfile naming a dead process gives process.down CRITICAL in a one-shot check."""
    child = spawn("pass")
    child.wait(timeout=10)
    env = make_env(SystemClock(), oneshot=True, process=[pidfile_target(seed_tree, child.pid)])
    out, _ = await run_once(ProcessRule(env), env)
    assert codes(out) == ["process.down"]
    assert out[0].severity == Severity.CRITICAL and verdict_of(out) == "RED"


@pytest.mark.anyio
async def test_missing_pidfile_is_down(make_env) -> None:
    """A pidfile that does not exist means the process is down."""
    env = make_env(FakeClock(), process=[{"name": "w", "pidfile": "runtime/none.pid"}])
    out, _ = await run_once(ProcessRule(env), env)
    assert codes(out) == ["process.down"]


@pytest.mark.anyio
async def test_no_cmdline_match_is_down(make_env) -> None:
    """A command-line regex that matches no process means down."""
    marker = uuid.uuid4().hex
    env = make_env(FakeClock(), process=[{"name": "w", "cmdline": f"nomatch-{marker}"}])
    out, _ = await run_once(ProcessRule(env), env)
    assert codes(out) == ["process.down"]


@pytest.mark.anyio
async def test_killed_and_restarted_process(make_env, spawn: Spawn) -> None:
    """Killed: down; started again: one process.restarted event with both pids."""
    marker = uuid.uuid4().hex
    code = f"# {marker}\n{IDLE}"
    first = spawn(code)
    env = make_env(FakeClock(), process=[{"name": "w", "cmdline": marker}])
    rule = ProcessRule(env)
    assert (await run_once(rule, env))[0] == []
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert codes((await run_once(rule, env))[0]) == ["process.down"]
    second = spawn(code)
    out, metrics = await run_once(rule, env)
    assert codes(out) == ["process.restarted"]
    assert out[0].evidence["previous_pid"] == first.pid and out[0].evidence["pid"] == second.pid
    assert metrics["w"]["restarts"] == 1


@pytest.mark.anyio
async def test_restart_between_runs_is_seen(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """A process replaced between two runs (new pid in the pidfile) is a restart, not down."""
    first = spawn(IDLE)
    env = make_env(FakeClock(), process=[pidfile_target(seed_tree, first.pid)])
    rule = ProcessRule(env)
    await run_once(rule, env)
    first.kill()
    first.wait(timeout=10)
    pidfile_target(seed_tree, spawn(IDLE).pid)
    assert codes((await run_once(rule, env))[0]) == ["process.restarted"]


@pytest.mark.anyio
async def test_garbage_pidfile_is_a_finding(make_env, seed_tree: Path) -> None:
    """A pidfile with garbage is source.unavailable naming the pidfile, not a crash."""
    (seed_tree / "runtime/worker.pid").write_bytes(b"\x00garbage\xff" * 1000)
    env = make_env(FakeClock(), process=[{"name": "w", "pidfile": "runtime/worker.pid"}])
    out, metrics = await run_once(ProcessRule(env), env)
    assert codes(out) == ["source.unavailable"]
    assert out[0].subject == "runtime/worker.pid" and metrics["w"]["up"] is False


@pytest.mark.anyio
async def test_zombie_is_down(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """An exited child not yet reaped (a zombie) counts as down."""
    child = spawn("pass")
    deadline = time.monotonic() + 10
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    env = make_env(FakeClock(), process=[pidfile_target(seed_tree, child.pid)])
    out, _ = await run_once(ProcessRule(env), env)
    assert codes(out) == ["process.down"] and "zombie" in out[0].message


@pytest.mark.anyio
async def test_unreadable_proc_entries(make_env, spawn: Spawn, seed_tree: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc entries that cannot be read give source.unavailable, not down (faked: we are root)."""
    child = spawn(IDLE)

    def denied(self: object) -> None:
        raise psutil.AccessDenied(child.pid)  # what psutil raises on EACCES under /proc

    monkeypatch.setattr(psutil._pslinux.Process, "memory_info", denied)
    env = make_env(FakeClock(), process=[pidfile_target(seed_tree, child.pid)])
    out, metrics = await run_once(ProcessRule(env), env)
    assert codes(out) == ["source.unavailable"] and out[0].subject == "process:worker"
    assert metrics["worker"]["up"] is True


@pytest.mark.anyio
async def test_busy_process_cpu_high_oneshot(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """A busy-looping process is process.cpu_high in a one-shot check (limit 10 %)."""
    child = spawn("while True: pass")
    target = {**pidfile_target(seed_tree, child.pid), "cpu_max": 10.0}
    env = make_env(SystemClock(), oneshot=True, process=[target])
    out, _ = await run_once(ProcessRule(env), env)
    assert codes(out) == ["process.cpu_high"]


class Jobs:
    """Stands in for the jobs source of another branch: an empty queue."""

    pending_count = 0
    claimed_count = 0
    activity: tuple[int, ...] = ()


class BusyJobs(Jobs):
    """Jobs come and go between two looks: the queue is empty at each look, yet not idle."""

    def __init__(self) -> None:
        self.done = 0

    @property
    def activity(self) -> tuple[int, ...]:
        self.done += 1
        return (self.done,)


@pytest.mark.anyio
async def test_idle_cpu_with_empty_queue(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """A process burning CPU over 2 samples while no job waits is process.idle_cpu."""
    child = spawn("while True: pass")
    target = {**pidfile_target(seed_tree, child.pid), "cpu_max": 500.0}
    env = make_env(SystemClock(), process=[target], thresholds={"cpu_samples": 2})
    env.sources._instances["jobs"] = Jobs()
    rule = ProcessRule(env)
    out: list[Finding] = []
    for _ in range(3):
        out, _ = await run_once(rule, env)
        await env.clock.sleep(0.1)
    assert codes(out) == ["process.idle_cpu"]


@pytest.mark.anyio
async def test_no_idle_cpu_while_jobs_flow(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """An empty queue at each look is not idle when jobs were processed in between."""
    child = spawn("while True: pass")
    target = {**pidfile_target(seed_tree, child.pid), "cpu_max": 500.0}
    env = make_env(SystemClock(), process=[target], thresholds={"cpu_samples": 2})
    env.sources._instances["jobs"] = BusyJobs()
    rule = ProcessRule(env)
    out: list[Finding] = []
    for _ in range(3):
        out, _ = await run_once(rule, env)
        await env.clock.sleep(0.1)
    assert "process.idle_cpu" not in codes(out)


GROWER = """
import time
rate = {rate}  # bytes per real second
start, hold = time.monotonic(), []
while True:
    want = int(rate * (time.monotonic() - start))
    have = sum(len(b) for b in hold)
    if want > have:
        hold.append(b"x" * (want - have))
    time.sleep(0.01)
"""

SPIKER = """
import time
time.sleep(0.4)
spike = b"x" * (80 * 1024 * 1024)
time.sleep(0.1)
del spike
while True:
    time.sleep(0.05)
"""


def start_ready(spawn: Spawn, root: Path, code: str) -> subprocess.Popen[bytes]:
    """Start `code` after a prologue that writes the pidfile once the interpreter is up."""
    pidfile = root / "runtime/worker.pid"
    pidfile.unlink(missing_ok=True)
    child = spawn(f"import os\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n{code}")
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return child


TARGET = {"name": "worker", "pidfile": "runtime/worker.pid"}


async def sample_for(rule: ProcessRule, env: Env, real_s: float) -> list[Finding]:
    """Run the rule every 0.05 real s for `real_s` and >= 20 runs; the last run's findings."""
    deadline = time.monotonic() + real_s
    out: list[Finding] = []
    runs = 0
    while time.monotonic() < deadline or runs < 20:
        runs += 1
        out, _ = await run_once(rule, env)
        await env.clock.sleep(0.05)
    return out


@pytest.mark.anyio
async def test_memory_growth_detected_in_band(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """A child growing 10 MB/s (600 MB/min) lands in the HIGH band of thresholds 100/2000."""
    start_ready(spawn, seed_tree, GROWER.format(rate=10 * 1024 * 1024))
    env = make_env(SystemClock(scale=3600), process=[TARGET],
                   thresholds={"memory_growth_high_mb_min": 100.0,
                               "memory_growth_critical_mb_min": 2000.0})
    out = await sample_for(ProcessRule(env), env, 1.5)  # min span 30 min = 0.5 real s
    growth = [f for f in out if f.code == "process.memory_growth"]
    assert len(growth) == 1 and growth[0].severity == Severity.HIGH
    assert 300 < growth[0].evidence["slope_mb_min"] < 1200


@pytest.mark.anyio
async def test_memory_growth_critical_with_spec_thresholds(make_env, spawn: Spawn,
                                                           seed_tree: Path) -> None:
    """With SPEC thresholds, 2 MB/s growth is CRITICAL (> 1.0 MB/min)."""
    start_ready(spawn, seed_tree, GROWER.format(rate=2 * 1024 * 1024))
    env = make_env(SystemClock(scale=3600), process=[TARGET])
    out = await sample_for(ProcessRule(env), env, 1.5)
    assert [f.severity for f in out if f.code == "process.memory_growth"] == [Severity.CRITICAL]


@pytest.mark.anyio
async def test_spike_then_free_is_not_growth(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """An 80 MB allocation freed within 2-3 samples raises no memory-growth finding at any run."""
    start_ready(spawn, seed_tree, SPIKER)
    env = make_env(SystemClock(scale=3600), process=[TARGET],
                   thresholds={"memory_growth_high_mb_min": 20.0})
    rule = ProcessRule(env)
    deadline, seen = time.monotonic() + 2.0, []
    while time.monotonic() < deadline:
        seen += [f for f in (await run_once(rule, env))[0] if f.code == "process.memory_growth"]
        await env.clock.sleep(0.1)
    assert seen == []


@pytest.mark.anyio
async def test_rss_series_restarts_with_process(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """After a restart the trend needs a fresh minimum span of samples."""
    child = spawn(IDLE)
    env = make_env(SystemClock(scale=3600), process=[pidfile_target(seed_tree, child.pid)])
    rule = ProcessRule(env)
    await sample_for(rule, env, 1.2)
    assert (await run_once(rule, env))[1]["worker"]["rss_slope_mb_min"] is not None
    child.kill()
    child.wait(timeout=10)
    pidfile_target(seed_tree, spawn(IDLE).pid)
    assert (await run_once(rule, env))[1]["worker"]["rss_slope_mb_min"] is None


def test_self_is_never_matched() -> None:
    """burnin's own command line never counts as the watched process."""
    own = re.compile(re.escape(" ".join(psutil.Process().cmdline())))
    assert find_by_cmdline(own, None) != os.getpid()
