"""Host CPU/memory/disk bands, and the heartbeat file's freshness."""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

import pytest

from daemon.checks.base import Tick
from daemon.checks.heartbeat import HeartbeatRule
from daemon.checks.host import HostRule, band, judge
from daemon.clock import FakeClock, SystemClock
from daemon.config import ThresholdsCfg
from daemon.model import Severity
from daemon.sources.host import HostLook, cpu_busy_percent, disk_percents

Times = namedtuple("Times", "user system idle iowait")
TH = ThresholdsCfg()


@pytest.mark.parametrize(("percent", "severity"), [
    (None, None), (10.0, None), (80.0, None), (80.1, Severity.MEDIUM),
    (95.0, Severity.MEDIUM), (95.1, Severity.HIGH), (100.0, Severity.HIGH),
])
def test_band(percent: float | None, severity: Severity | None) -> None:
    """> 80 % is MEDIUM, > 95 % is HIGH (SPEC §3)."""
    assert band(percent, TH) == severity


@pytest.mark.parametrize(("prev", "cur", "expected"), [
    (None, Times(1, 1, 1, 0), None),
    (Times(0, 0, 0, 0), Times(30, 10, 50, 10), 40.0),
    (Times(5, 5, 5, 5), Times(5, 5, 5, 5), None),
    (Times(0, 0, 0, 0), Times(0, 0, 10, 0), 0.0),
])
def test_cpu_busy_percent(prev: Times | None, cur: Times, expected: float | None) -> None:
    """Busy CPU is everything but idle and iowait, over the interval between two readings."""
    assert cpu_busy_percent(prev, cur) == expected


def test_judge_reports_each_resource_in_its_band() -> None:
    """CPU HIGH, memory MEDIUM and a full disk each give one finding with the right tier."""
    seen = HostLook(cpu_percent=99.0, memory_percent=85.0, disks={"/data": 96.0, "/rt": 10.0})
    out = {(f.code, f.subject): f.severity for f in judge(seen, TH)}
    assert out == {("host.cpu_high", "host"): Severity.HIGH,
                   ("host.memory_high", "host"): Severity.MEDIUM,
                   ("host.disk_high", "/data"): Severity.HIGH}


def test_unreadable_disk_is_source_unavailable() -> None:
    """A disk whose usage cannot be read is a finding, not a crash."""
    out = judge(HostLook(None, 1.0, {}, {"/gone": "No such file"}), TH)
    assert [f.code for f in out] == ["source.unavailable"]


def test_disks_deduplicated_and_missing_folder_uses_parent(tmp_path: Path) -> None:
    """Two folders on one device are one disk; a folder not created yet uses its parent."""
    used, errors = disk_percents([tmp_path, tmp_path / "not" / "yet"])
    assert list(used) == [str(tmp_path)] and errors == {}


@pytest.mark.anyio
async def test_host_rule_oneshot_measures_cpu(make_env) -> None:
    """One-shot: CPU over a short interval, memory and disks in the host metrics."""
    env = make_env(SystemClock(), oneshot=True)
    tick = Tick("health", env.clock.time())
    await HostRule(env).run(tick)
    host = tick.metrics["host"]
    assert host["cpu_percent"] is not None and 0 <= host["memory_percent"] <= 100
    assert str(env.cfg.root) in host["disks"]


@pytest.mark.anyio
async def test_host_rule_low_threshold_fires(make_env) -> None:
    """With a 0 % threshold the real host's memory is reported as host.memory_high."""
    env = make_env(SystemClock(), oneshot=True, thresholds={"host_high_percent": 0.0})
    out = await HostRule(env).run(Tick("health", env.clock.time()))
    assert "host.memory_high" in {f.code for f in out}


@pytest.mark.anyio
async def test_heartbeat_fresh(make_env, seed_tree: Path) -> None:
    """A heartbeat touched now is fresh."""
    clock = FakeClock()
    (seed_tree / "runtime/hb").touch()
    os.utime(seed_tree / "runtime/hb", (clock.time(), clock.time()))
    env = make_env(clock, heartbeat={"path": "runtime/hb", "max_age": "2m"})
    assert await HeartbeatRule(env).run(Tick("health", clock.time())) == []


@pytest.mark.anyio
async def test_heartbeat_stale_under_time_scale(make_env, seed_tree: Path) -> None:
    """max_age is nominal: 2m at scale 60 is 2 real seconds; 3 s old is stale."""
    clock = FakeClock(scale=60)
    (seed_tree / "runtime/hb").touch()
    os.utime(seed_tree / "runtime/hb", (clock.time() - 3, clock.time() - 3))
    env = make_env(clock, heartbeat={"path": "runtime/hb", "max_age": "2m"})
    out = await HeartbeatRule(env).run(Tick("health", clock.time()))
    assert [f.code for f in out] == ["heartbeat.stale"] and out[0].evidence["max_age_s"] == 2.0


@pytest.mark.anyio
async def test_heartbeat_missing_is_stale(make_env) -> None:
    """A heartbeat file that does not exist is stale."""
    env = make_env(FakeClock(), heartbeat={"path": "runtime/none"})
    out = await HeartbeatRule(env).run(Tick("health", env.clock.time()))
    assert [f.code for f in out] == ["heartbeat.stale"] and out[0].evidence["missing"] is True


@pytest.mark.anyio
async def test_no_heartbeat_configured(make_env) -> None:
    """Without [heartbeat] path the rule reports nothing."""
    env = make_env(FakeClock())
    assert await HeartbeatRule(env).run(Tick("health", env.clock.time())) == []
