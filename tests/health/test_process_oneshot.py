"""The one-shot process CPU sample: the first look is taken as `burnin check` starts, the
second in the rule, so the sample spans the run (at least the host's minimum) and says how long
it was; a process that exits or restarts between the looks is a finding, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

import pytest
import structlog

from daemon.checks.base import Env, Tick
from daemon.checks.host import ONESHOT_CPU_MIN_S
from daemon.checks.process import ProcessRule, Track, sample_s
from daemon.clock import FakeClock, SystemClock
from daemon.config import load_config
from daemon.model import Finding
from daemon.oneshot import check_once

Spawn = Callable[[str], subprocess.Popen[bytes]]
IDLE = "import time\nwhile True: time.sleep(0.05)"
REPO = Path(__file__).resolve().parents[2]


def pidfile_target(root: Path, pid: int, name: str = "worker") -> dict:
    (root / "runtime/worker.pid").write_text(f"{pid}\n")
    return {"name": name, "pidfile": "runtime/worker.pid"}


def process_config(root: Path, pid: int, extra: str = "") -> Path:
    """A config file watching `pid` through the seed tree's pidfile."""
    target = pidfile_target(root, pid)
    config = root.parent / "burnin.toml"
    config.write_text(f'[[process]]\nname = "{target["name"]}"\npidfile = "{target["pidfile"]}"\n'
                      f'[daemon]\nruntime_dir = "{root.parent / "rt"}"\n'
                      f'log_dir = "{root.parent / "lg"}"\n{extra}')
    return config


async def run_once(rule: ProcessRule, env: Env) -> tuple[list[Finding], dict]:
    tick = Tick("health", env.clock.time())
    out = await rule.run(tick)
    return out, tick.metrics["processes"]


@pytest.mark.parametrize(("samples", "cpu", "expected"), [
    ([(10.0, 1, 0.0), (10.4, 1, 0.1)], 25.0, 0.4),  # two looks: the span between them
    ([(10.0, 1, 0.0), (10.4, 1, 0.1)], None, None),  # no figure: no span to report
    ([(10.4, 1, 0.1)], 0.0, None),  # one look only (down or restarted at the first)
    ([], None, None)])
def test_sample_span(samples: list[tuple[float, int, float]], cpu: float | None,
                     expected: float | None) -> None:
    """The span a one-shot CPU figure was measured over is the one between its two looks."""
    track = Track(samples=deque(samples))
    got = sample_s(track, cpu)
    assert got == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.anyio
async def test_an_early_first_look_needs_no_sleep(make_env, spawn: Spawn,
                                                  seed_tree: Path) -> None:
    """begin() takes the first look; when the checks in between ran long enough the rule
    does not wait (FakeClock would hang on a real wait) and reports the whole span."""
    child = spawn(IDLE)
    env = make_env(FakeClock(), oneshot=True, process=[pidfile_target(seed_tree, child.pid)])
    rule = ProcessRule(env)
    await rule.begin()
    env.clock.advance(0.5)  # type: ignore[attr-defined]
    out, metrics = await run_once(rule, env)
    assert out == []
    assert metrics["worker"]["cpu_sample_s"] == pytest.approx(0.5)
    assert metrics["worker"]["cpu_percent"] is not None


@pytest.mark.anyio
async def test_without_begin_the_rule_samples_the_minimum(make_env, spawn: Spawn,
                                                          seed_tree: Path) -> None:
    """A process rule run alone (no begin) takes both looks itself, ONESHOT_CPU_MIN_S apart."""
    child = spawn(IDLE)
    env = make_env(SystemClock(), oneshot=True, process=[pidfile_target(seed_tree, child.pid)])
    _, metrics = await run_once(ProcessRule(env), env)
    assert metrics["worker"]["cpu_sample_s"] >= ONESHOT_CPU_MIN_S
    assert metrics["worker"]["cpu_percent"] is not None


@pytest.mark.anyio
async def test_process_exiting_between_the_looks_is_down(make_env, spawn: Spawn,
                                                         seed_tree: Path) -> None:
    """Up at the first look, gone at the second: process.down, no CPU figure, no span."""
    child = spawn(IDLE)
    env = make_env(SystemClock(), oneshot=True, process=[pidfile_target(seed_tree, child.pid)])
    rule = ProcessRule(env)
    await rule.begin()
    child.kill()
    child.wait(timeout=10)
    out, metrics = await run_once(rule, env)
    assert [f.code for f in out] == ["process.down"]
    assert metrics["worker"]["cpu_percent"] is None and metrics["worker"]["cpu_sample_s"] is None


@pytest.mark.anyio
async def test_process_restarted_between_the_looks(make_env, spawn: Spawn,
                                                   seed_tree: Path) -> None:
    """A new pid in the pidfile between the looks is process.restarted, with no CPU figure
    mixed from two processes."""
    first, second = spawn(IDLE), spawn(IDLE)
    env = make_env(SystemClock(), oneshot=True, process=[pidfile_target(seed_tree, first.pid)])
    rule = ProcessRule(env)
    await rule.begin()
    pidfile_target(seed_tree, second.pid)
    out, metrics = await run_once(rule, env)
    assert [f.code for f in out] == ["process.restarted"]
    assert metrics["worker"]["pid"] == second.pid and metrics["worker"]["cpu_percent"] is None


@pytest.mark.anyio
async def test_busy_process_names_its_sample(make_env, spawn: Spawn, seed_tree: Path) -> None:
    """A one-shot process.cpu_high says how long it measured (message and evidence)."""
    child = spawn("while True: pass")
    target = {**pidfile_target(seed_tree, child.pid), "cpu_max": 10.0}
    env = make_env(SystemClock(), oneshot=True, process=[target])
    out, _ = await run_once(ProcessRule(env), env)
    assert [f.code for f in out] == ["process.cpu_high"]
    assert out[0].evidence["sample_s"] >= ONESHOT_CPU_MIN_S
    assert " s sample" in out[0].message


@pytest.mark.anyio
async def test_a_failing_begin_does_not_stop_the_check(seed_tree: Path, spawn: Spawn,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """check_once: a rule whose first look raises still runs (it looks again in its run)."""
    async def broken(self: ProcessRule) -> None:
        raise OSError("no /proc")

    monkeypatch.setattr(ProcessRule, "begin", broken)
    child = spawn(IDLE)
    config = process_config(seed_tree, child.pid, '[checks]\ndisabled = ["host"]\n')
    cfg = load_config(config, root=str(seed_tree))
    doc = await check_once(cfg, ["health"], structlog.get_logger())
    assert doc["metrics"]["processes"]["worker"]["cpu_sample_s"] >= ONESHOT_CPU_MIN_S


def test_burnin_check_spans_the_run_for_processes(seed_tree: Path, spawn: Spawn) -> None:
    """`burnin check` with a [[process]] as a process: the CPU figure and its span."""
    child = spawn(IDLE)
    config = process_config(seed_tree, child.pid)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "daemon", "check", "--root", str(seed_tree),
                           "--config", str(config), "--format", "json"], capture_output=True,
                          text=True, env=env, timeout=60, cwd=seed_tree.parent)
    assert proc.returncode in (0, 1), proc.stderr  # 1: the busy test host may be > 80 %
    worker = json.loads(proc.stdout)["metrics"]["processes"]["worker"]
    assert worker["pid"] == child.pid and worker["cpu_sample_s"] >= ONESHOT_CPU_MIN_S
    assert worker["cpu_percent"] is not None
