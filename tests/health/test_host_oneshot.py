"""The one-shot host CPU sample: it spans the other checks (no fixed sleep), leaves burnin's
own CPU out, and says how long it measured; the daemon's tick-to-tick sample is unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

from daemon.checks.base import Tick
from daemon.checks.host import ONESHOT_CPU_MIN_S, HostRule, oneshot_wait_s
from daemon.clock import FakeClock, SystemClock
from daemon.sources.host import (
    HostSampler,
    cpu_reading,
    host_sampler,
    others_busy_percent,
    own_cpu_s,
)

Times = namedtuple("Times", "user system idle iowait")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("prev", "cur", "own", "expected"), [
    (None, Times(1, 1, 1, 0), 0.0, None),  # no first reading: nothing to say
    (Times(0, 0, 0, 0), Times(30, 10, 50, 10), 0.0, 40.0),  # as cpu_busy_percent
    (Times(0, 0, 0, 0), Times(30, 10, 50, 10), 20.0, 20.0),  # burnin's own 20 s are not busy
    (Times(0, 0, 0, 0), Times(5, 0, 95, 0), 9.0, 0.0),  # own above busy (tick rounding): 0
    (Times(0, 0, 0, 0), Times(60, 40, 0, 0), -1.0, 100.0),  # a negative own is ignored
    (Times(5, 5, 5, 5), Times(5, 5, 5, 5), 0.0, None),  # no time passed
])
def test_others_busy_percent(prev: Times | None, cur: Times, own: float,
                             expected: float | None) -> None:
    """Busy share of the host without burnin's own CPU seconds over the same span."""
    assert others_busy_percent(prev, cur, own) == expected


@pytest.mark.parametrize(("span", "wait"), [
    (0.0, ONESHOT_CPU_MIN_S), (ONESHOT_CPU_MIN_S / 2, ONESHOT_CPU_MIN_S / 2),
    (ONESHOT_CPU_MIN_S, 0.0), (5.0, 0.0)])
def test_oneshot_waits_only_for_the_rest_of_the_span(span: float, wait: float) -> None:
    """Checks that ran long enough cost no wait at all; a lone host rule waits the minimum."""
    assert oneshot_wait_s(span) == pytest.approx(wait)


def test_own_cpu_grows_with_work() -> None:
    """own_cpu_s counts this process's CPU (what the one-shot sample leaves out)."""
    before = own_cpu_s()
    sum(i * i for i in range(300_000))
    assert own_cpu_s() > before


def test_oneshot_sampler_reads_at_creation(make_env) -> None:
    """One-shot: the first reading is taken when the sampler is made, so the first sample
    already has a CPU figure; the span is measured on the injected clock."""
    clock = FakeClock()
    sampler = host_sampler(make_env(clock, oneshot=True))
    clock.advance(0.3)
    assert sampler.span_s() == pytest.approx(0.3)
    time.sleep(0.05)  # real CPU ticks between the two readings
    seen = sampler.sample()
    assert seen.cpu_percent is not None and 0.0 <= seen.cpu_percent <= 100.0
    assert sampler.span_s() == 0.0


def test_daemon_sampler_first_look_has_no_cpu(make_env) -> None:
    """The daemon keeps its tick-to-tick sample: the first look has no interval yet."""
    sampler = host_sampler(make_env(FakeClock()))
    assert sampler.sample().cpu_percent is None


@pytest.mark.anyio
async def test_daemon_host_rule_does_not_wait(make_env) -> None:
    """In the daemon the host rule never sleeps (FakeClock would hang if it did) and its
    metrics have no one-shot span."""
    env = make_env(FakeClock())
    tick = Tick("health", env.clock.time())
    await HostRule(env).run(tick)
    assert tick.metrics["host"]["cpu_percent"] is None
    assert "cpu_sample_s" not in tick.metrics["host"]


@pytest.mark.anyio
async def test_lone_host_rule_waits_for_the_minimum_span(make_env) -> None:
    """A host rule run alone in a one-shot measures over ONESHOT_CPU_MIN_S and says so."""
    env = make_env(SystemClock(), oneshot=True)
    tick = Tick("health", env.clock.time())
    await HostRule(env).run(tick)
    host = tick.metrics["host"]
    assert host["cpu_sample_s"] >= ONESHOT_CPU_MIN_S and host["cpu_percent"] is not None


def test_burnin_check_reports_the_sample_span_and_keeps_metric_order(seed_tree: Path) -> None:
    """`burnin check` as a process: health's metrics come first in the document (as before
    health ran last) and the host CPU figure carries the span it was measured over."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "daemon", "check", "--root", str(seed_tree),
                           "--format", "json"], capture_output=True, text=True, env=env,
                          timeout=60, cwd=seed_tree.parent)
    assert proc.returncode in (0, 1), proc.stderr  # 1: the busy test host may be > 80 %
    metrics = json.loads(proc.stdout)["metrics"]
    assert list(metrics)[:2] == ["host", "locks"] and "journal" in metrics
    assert metrics["host"]["cpu_sample_s"] >= ONESHOT_CPU_MIN_S
    assert 0.0 <= metrics["host"]["cpu_percent"] <= 100.0


def test_an_earlier_first_reading_spans_the_whole_run(make_env) -> None:
    """`burnin check` hands the reading it took as it started to the sampler: the sample then
    spans the start-up too, and a long enough span needs no wait."""
    clock = FakeClock()
    sampler = host_sampler(make_env(clock, oneshot=True))
    first = cpu_reading(clock)
    clock.advance(0.4)
    sampler.begin(first)
    assert sampler.span_s() == pytest.approx(0.4) and oneshot_wait_s(sampler.span_s()) == 0.0
    time.sleep(0.05)
    assert sampler.sample().cpu_percent is not None


def test_the_sampler_takes_its_own_slice(tmp_path: Path) -> None:
    """The host sampler needs the folders whose disks it watches and a clock, not a Config."""
    sampler = HostSampler([tmp_path, tmp_path / "not-yet"], FakeClock())
    seen = sampler.sample()
    assert list(seen.disks) == [str(tmp_path)]  # one entry per device
    assert seen.cpu_percent is None and seen.disk_errors == {}
