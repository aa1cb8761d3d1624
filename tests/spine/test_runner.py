"""The runner: each rule isolated and timed, even when stuck in a thread."""

from __future__ import annotations

import threading

import anyio
import pytest

from daemon.checks.base import Rule, Tick
from daemon.logsetup import get_logger
from daemon.runner import run_rule

pytestmark = pytest.mark.anyio


class Stuck(Rule):
    name = "stuck"
    check = "health"

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    async def run(self, tick: Tick) -> list:
        await anyio.to_thread.run_sync(self.release.wait)  # an uncancellable blocked read
        return []


class Broken(Rule):
    name = "broken"
    check = "health"

    def __init__(self) -> None:
        pass

    async def run(self, tick: Tick) -> list:
        raise ValueError("bad input")


async def test_rule_stuck_in_a_thread_times_out_and_is_skipped_until_back() -> None:
    """A blocked thread cannot hold the check: timeout, then 'still running', then normal."""
    release = threading.Event()
    rule = Stuck(release)
    first = await run_rule(rule, Tick("health", 0.0), 0.1, get_logger())
    second = await run_rule(rule, Tick("health", 1.0), 0.1, get_logger())
    release.set()
    await anyio.sleep(0.05)
    third = await run_rule(rule, Tick("health", 2.0), 1.0, get_logger())
    assert first.findings is None and "timeout" in (first.error or "")
    assert second.findings is None and "still running" in (second.error or "")
    assert third.findings == []


async def test_rule_that_raises_becomes_an_error_result() -> None:
    """An exception is caught and named, never propagated."""
    result = await run_rule(Broken(), Tick("health", 0.0), 1.0, get_logger())
    assert result.findings is None and result.error == "raised ValueError: bad input"
