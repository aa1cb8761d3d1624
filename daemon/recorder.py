"""What the supervisor remembers about its own runs: each check's bookkeeping and figures
(applied from a `CheckOutcome`), and burnin's own runtime writes (a failure is a finding)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from daemon.alerts.engine import AlertEngine
from daemon.clock import Clock
from daemon.model import CHECKS, finding
from daemon.runner import CheckOutcome
from daemon.status import CheckState

RUNTIME_OK_S = 10.0  # real seconds without a failed runtime write before it is resolved
RETRY_S = 2.0  # real seconds between tries of a write that must eventually happen
T = TypeVar("T")


class CheckRecorder:
    """Applies check outcomes to the check states, the metrics and the window."""

    def __init__(self, record_run: Callable[[str, float, bool, int], None]) -> None:
        self.checks = {c: CheckState() for c in CHECKS}
        self.metrics: dict[str, Any] = {}
        self.record_run = record_run
        self.dirty = True  # status.json is due

    def apply(self, outcome: CheckOutcome) -> None:
        state = self.checks[outcome.check]
        state.last_run, state.next_run = outcome.started, outcome.next_run
        state.duration_ms, state.ok = outcome.duration_ms, outcome.ok
        state.findings = len(outcome.findings)
        state.runs += 1
        state.failures += 0 if outcome.ok else 1
        state.missed += outcome.missed
        state.coalesced += outcome.coalesced
        state.error = outcome.error
        for group, values in outcome.metrics.items():
            self.metrics.setdefault(group, {}).update(values)
        self.record_run(outcome.check, outcome.started, outcome.ok, outcome.missed)
        self.dirty = True

    def touch(self) -> None:
        """Something changed outside a check run (a continuous watch reported)."""
        self.dirty = True


class RuntimeGuard:
    """Window state, series and reports live on burnin's disk: a failure to write them (disk
    full, read-only) is a `daemon.runtime_unwritable` finding and is retried, never a dead
    daemon; a quiet spell of RUNTIME_OK_S resolves it."""

    RULE = "supervisor.runtime"

    def __init__(self, engine: AlertEngine, clock: Clock, log: Any, folder: str) -> None:
        self.engine, self.clock, self.log, self.folder = engine, clock, log, folder
        self.failing = False
        self.failed_at = 0.0

    async def run(self, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            await self._failed(exc)
            return
        # Most calls write nothing (a heartbeat saves every 2 s): only a quiet spell resolves.
        if self.failing and self.clock.time() - self.failed_at >= RUNTIME_OK_S:
            self.failing = False
            await self.engine.observe(self.RULE, [], self.clock.time())

    async def _failed(self, exc: OSError) -> None:
        if not self.failing:
            self.log.error("runtime_write_failed", error=repr(exc))
        self.failing, self.failed_at = True, self.clock.time()
        await self.engine.observe(self.RULE, [finding(
            "daemon.runtime_unwritable", self.folder,
            f"cannot write burnin's runtime folder: {exc}", {"error": repr(exc)})],
            self.clock.time())

    async def until_done(self, action: Callable[[], T], stopped: Callable[[], bool]) -> T | None:
        """Run `action` until it succeeds: a disk that refuses is the finding above, tried
        again every RETRY_S real seconds; None if `stopped()` first (SIGTERM)."""
        done: list[T] = []
        while not stopped():
            await self.run(partial(_collect, action, done))
            if done:
                return done[0]
            await self.clock.sleep(RETRY_S)
        return None


def _collect(action: Callable[[], T], into: list[T]) -> None:
    into.append(action())
