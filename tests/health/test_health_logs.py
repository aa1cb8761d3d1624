"""The logs rule: lock timeouts against transitions, ERROR lines per hour, state."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.checks.base import Tick
from daemon.checks.logs import LogsRule, errors_per_hour, lock_severity
from daemon.clock import FakeClock, SystemClock
from daemon.config import ThresholdsCfg
from daemon.model import Finding, Severity

TH = ThresholdsCfg()


@pytest.mark.parametrize(("timeouts", "transitions", "severity"), [
    (0, 100, None),
    (0, 0, None),
    (1, 200, None),
    (1, 100, Severity.HIGH),
    (5, 100, Severity.HIGH),
    (6, 100, Severity.CRITICAL),
    (1, 0, Severity.CRITICAL),
])
def test_lock_severity(timeouts: int, transitions: int, severity: Severity | None) -> None:
    """Seed 003: < 1 % fine, 1-5 % HIGH, > 5 % CRITICAL; timeouts without transitions count."""
    assert lock_severity(timeouts, transitions, TH)[0] == severity


@pytest.mark.parametrize(("errors", "span_s", "expected"), [
    (61, None, 61.0), (61, 600.0, 61.0), (60, 7200.0, 30.0),
])
def test_errors_per_hour(errors: int, span_s: float | None, expected: float) -> None:
    """A span under an hour (or unknown) counts as one hour."""
    assert errors_per_hour(errors, span_s) == expected


def transitions(root: Path, n: int) -> None:
    with open(root / "logs/state_transitions.jsonl", "a") as fh:
        for i in range(n):
            fh.write(f'{{"transition_id": "x{i}", "from_state": "A", "to_state": "B"}}\n')


def log(root: Path, lines: list[str], name: str = "app.log") -> None:
    with open(root / "logs" / name, "a") as fh:
        fh.writelines(line + "\n" for line in lines)


async def run(rule: LogsRule, now: float) -> tuple[list[Finding], dict]:
    tick = Tick("health", now)
    return await rule.run(tick), tick.metrics


@pytest.mark.anyio
async def test_oneshot_lock_rate_high(make_env, seed_tree: Path) -> None:
    """One-shot: 2 lock timeouts over 100 transitions (+1 seeded) is HIGH, over everything."""
    transitions(seed_tree, 99)
    log(seed_tree, ["INFO ok", "WARN Lock timeout on state", "Lock timeout again"])
    env = make_env(SystemClock(), oneshot=True)
    out, metrics = await run(LogsRule(env), 0.0)
    assert [(f.code, f.severity) for f in out] == [("locks.timeout_rate", Severity.HIGH)]
    assert metrics["locks"] == {"timeouts": 2, "transitions": 100, "rate": 0.02}


@pytest.mark.anyio
async def test_custom_lock_pattern(make_env, seed_tree: Path) -> None:
    """logs.lock_timeout_pattern replaces the default text."""
    log(seed_tree, ["could not acquire LOCK", "Lock timeout"])
    env = make_env(SystemClock(), oneshot=True, logs={"lock_timeout_pattern": "acquire LOCK"})
    _, metrics = await run(LogsRule(env), 0.0)
    assert metrics["locks"]["timeouts"] == 1


@pytest.mark.anyio
async def test_oneshot_error_rate_without_timestamps(make_env, seed_tree: Path) -> None:
    """One-shot with unstamped lines: 61 ERROR lines count as 61 per hour, above 60."""
    log(seed_tree, ["ERROR boom"] * 61 + ["ERRORS and xERRORx do not match"])
    env = make_env(SystemClock(), oneshot=True)
    out, _ = await run(LogsRule(env), 0.0)
    assert [f.code for f in out] == ["logs.error_rate"] and out[0].evidence["errors"] == 61


@pytest.mark.anyio
async def test_oneshot_error_rate_over_stamped_span(make_env, seed_tree: Path) -> None:
    """One-shot: 80 ERROR lines stamped over 2 hours are 40 per hour, under 60."""
    lines = [f"2026-01-13T{10 + i // 40:02d}:{(i % 40):02d}:00Z ERROR x" for i in range(80)]
    log(seed_tree, [*lines, "2026-01-13T12:00:00Z INFO end"])
    env = make_env(SystemClock(), oneshot=True)
    out, metrics = await run(LogsRule(env), 0.0)
    assert out == [] and metrics["logs"]["errors_per_hour"] == 40.0


@pytest.mark.anyio
async def test_daemon_counts_only_the_last_hour(make_env, seed_tree: Path) -> None:
    """Daemon: errors older than one nominal hour (60 real s at scale 60) drop out."""
    clock = FakeClock(scale=60)
    env = make_env(clock, logs={"max_errors_per_hour": 5})
    rule = LogsRule(env)
    await run(rule, clock.time())
    log(seed_tree, ["ERROR a"] * 6)
    out, metrics = await run(rule, clock.time())
    assert [f.code for f in out] == ["logs.error_rate"]
    clock.advance(61)
    out, metrics = await run(rule, clock.time())
    assert out == [] and metrics["logs"]["errors_last_hour"] == 0


@pytest.mark.anyio
async def test_daemon_lock_rate_from_new_lines(make_env, seed_tree: Path) -> None:
    """Daemon: only lines appended since start count; 6 timeouts / 100 transitions = CRITICAL."""
    log(seed_tree, ["Lock timeout"] * 50)  # before start: not counted
    clock = FakeClock()
    rule = LogsRule(make_env(clock))
    await run(rule, clock.time())
    transitions(seed_tree, 100)
    log(seed_tree, ["Lock timeout"] * 6)
    out, metrics = await run(rule, clock.time())
    assert [(f.code, f.severity) for f in out] == [("locks.timeout_rate", Severity.CRITICAL)]
    assert metrics["locks"]["timeouts"] == 6


@pytest.mark.anyio
async def test_state_survives_restart(make_env, seed_tree: Path, tmp_path: Path) -> None:
    """Offsets saved by save() let a restarted rule read exactly the lines written meanwhile."""
    clock = FakeClock()
    env = make_env(clock)
    env.state_dir = tmp_path / "state"
    rule = LogsRule(env)
    await run(rule, clock.time())
    log(seed_tree, ["ERROR before save"])
    await run(rule, clock.time())
    rule.save()
    rule.close()
    log(seed_tree, ["ERROR while down", "ERROR again"])
    env2 = make_env(clock)
    env2.state_dir = env.state_dir
    _, metrics = await run(LogsRule(env2), clock.time())
    assert metrics["logs"]["errors_last_hour"] == 2
