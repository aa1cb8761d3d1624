"""burnin's self-monitoring: loop-lag probe, own RSS/CPU, daemon.loop_lag."""

from __future__ import annotations

import asyncio
import time

import pytest

from daemon.checks.base import Tick
from daemon.checks.selfmon import DaemonSelfRule
from daemon.clock import FakeClock, SystemClock
from daemon.sources.selfmon import SelfMonitor


@pytest.mark.anyio
async def test_probe_measures_a_blocked_loop() -> None:
    """A coroutine blocking the loop for 300 ms is seen by the probe as > 100 ms of lag."""
    monitor = SelfMonitor(SystemClock())
    probe = asyncio.create_task(monitor.run_lag_probe())
    await asyncio.sleep(0.15)
    time.sleep(0.3)  # the fault under test: a check blocking the event loop
    await asyncio.sleep(0.25)
    probe.cancel()
    assert monitor.max_lag_s > 0.1


@pytest.mark.anyio
async def test_rule_raises_loop_lag_once_per_interval(make_env) -> None:
    """A 250 ms lag gives daemon.loop_lag at the next run, and not again without new lag."""
    clock = FakeClock()
    env = make_env(clock)
    rule = DaemonSelfRule(env)
    monitor: SelfMonitor = env.sources.get("selfmon")
    clock.advance(1)
    monitor.record(0.25)
    out = await rule.run(Tick("health", clock.time()))
    assert [f.code for f in out] == ["daemon.loop_lag"] and out[0].evidence["lag_ms"] == 250.0
    clock.advance(1)
    monitor.record(0.01)
    assert await rule.run(Tick("health", clock.time())) == []


@pytest.mark.anyio
async def test_rule_publishes_daemon_metrics(make_env) -> None:
    """The rule puts burnin's RSS, CPU and loop lag under metrics.daemon."""
    clock = FakeClock()
    env = make_env(clock)
    rule = DaemonSelfRule(env)
    await rule.run(Tick("health", clock.time()))
    clock.advance(2)
    tick = Tick("health", clock.time())
    await rule.run(tick)
    daemon = tick.metrics["daemon"]
    assert set(daemon) == {"rss_bytes", "cpu_percent", "loop_lag_ms", "loop_lag_max_ms"}
    assert daemon["rss_bytes"] > 0 and daemon["cpu_percent"] is not None


@pytest.mark.anyio
async def test_rule_silent_in_oneshot(make_env) -> None:
    """`burnin check` runs no probe, so the rule reports nothing."""
    env = make_env(SystemClock(), oneshot=True)
    tick = Tick("health", 0.0)
    assert await DaemonSelfRule(env).run(tick) == [] and tick.metrics == {}


def test_snapshot_without_probe() -> None:
    """Before the probe has run, lag is unknown and max lag is 0."""
    snap = SelfMonitor(FakeClock()).snapshot()
    assert snap["loop_lag_ms"] is None and snap["loop_lag_max_ms"] == 0.0
