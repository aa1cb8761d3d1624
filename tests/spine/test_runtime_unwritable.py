"""`daemon.runtime_unwritable` does not flap (issue 18 item 9): it is debounced like a sampled
condition, and a call that wrote nothing (a heartbeat between saves) does not resolve it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import structlog

from daemon.alerts import decide
from daemon.alerts.state import Policy
from daemon.clock import FakeClock
from daemon.config import load_config
from daemon.recorder import RUNTIME_OK_S, RuntimeGuard

pytestmark = pytest.mark.anyio


class Engine:
    """The decision as the real engine runs it, without the outbox."""

    def __init__(self) -> None:
        self.states: dict = {}
        self.notices: list[tuple[str, str]] = []
        self.policy = Policy.from_config(load_config(), 1.0)

    async def observe(self, rule: str, findings: list, now: float) -> None:
        self.states, ns = decide.observe(self.states, rule, findings, now, self.policy)
        self.notices += [(n.reason, n.state.severity.name) for n in ns]


def fail() -> None:
    raise OSError(28, "No space left on device")


def nothing() -> None:
    """A heartbeat between saves: succeeds without writing anything."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_unwritable_runtime_fires_once_and_resolves_once(tmp_path: Path) -> None:
    """Failed writes every 2 s with no-op calls between: one HIGH, never CRITICAL, one
    resolve 10 s after the last failure; no flapping."""
    clock = FakeClock()
    engine = Engine()
    guard = RuntimeGuard(engine, clock, structlog.get_logger("test"),  # type: ignore[arg-type]
                         str(tmp_path / "runtime"))
    for i in range(120):  # one minute: a tick every 0.5 s, a save failing every 2 s
        await guard.run(fail if i % 4 == 0 else nothing)
        clock.advance(0.5)
    assert engine.notices == [("first", "HIGH")]
    for _ in range(int(RUNTIME_OK_S / 0.5) + 2):  # the disk is back
        await guard.run(nothing)
        clock.advance(0.5)
    assert engine.notices == [("first", "HIGH"), ("resolved", "HIGH")]


async def test_a_write_that_must_happen_is_retried_until_the_disk_takes_it(
        tmp_path: Path) -> None:
    """The next window on a full disk (on_end = "continue"): a finding, retries, then the
    value once the disk takes it; no exception reaches the daemon."""
    clock = FakeClock()
    engine = Engine()
    guard = RuntimeGuard(engine, clock, structlog.get_logger("test"),  # type: ignore[arg-type]
                         str(tmp_path / "runtime"))
    tries: list[float] = []

    def start() -> str:
        tries.append(clock.time())
        if len(tries) < 3:
            fail()
        return "w-next"

    task = asyncio.ensure_future(guard.until_done(start, lambda: False))
    while not task.done():
        await asyncio.sleep(0)
        clock.advance(0.5)
    assert task.result() == "w-next" and len(tries) == 3
    assert engine.notices == [("first", "HIGH")]


async def test_a_stop_ends_the_retries(tmp_path: Path) -> None:
    """SIGTERM while the disk still refuses: until_done gives up with None."""
    clock = FakeClock()
    guard = RuntimeGuard(Engine(), clock, structlog.get_logger("test"),  # type: ignore[arg-type]
                         str(tmp_path / "runtime"))
    stopped = [False]
    task = asyncio.ensure_future(guard.until_done(fail, lambda: stopped[0]))
    for _ in range(10):
        await asyncio.sleep(0)
        clock.advance(0.5)
    stopped[0] = True
    while not task.done():
        await asyncio.sleep(0)
        clock.advance(0.5)
    assert task.result() is None
