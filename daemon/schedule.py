"""Cadences on APScheduler 3.11's AsyncIOScheduler, made honest.

APScheduler only *fires* a check; a worker task per check runs it, so one check never overlaps
itself: a slot that fires while the previous run is still going is coalesced into it and
counted. Known traps handled here: APScheduler coalesces missed runs silently (we listen for
EVENT_JOB_MISSED and count a missed slot) and schedules on wall-clock time (a watchdog on the
monotonic clock fires a check that is overdue by more than two intervals, e.g. after the wall
clock jumped back, and counts that as a missed slot too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from daemon.clock import Clock


@dataclass
class Slot:
    interval_s: float
    last_fire_mono: float
    pending: bool = False
    busy: bool = False
    missed: int = 0  # slots the scheduler never fired (loop blocked, clock jumped)
    coalesced: int = 0  # slots that fired while the previous run was still going


class Cadences:
    """Fires `on_fire(check)`; counts missed slots; `next_run(check)` for status.json."""

    def __init__(self, clock: Clock, on_fire: Callable[[str], None], log: Any) -> None:
        self.clock, self.on_fire, self.log = clock, on_fire, log
        self.slots: dict[str, Slot] = {}
        self._sched = AsyncIOScheduler(timezone=UTC)
        self._sched.add_listener(self._missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    def add(self, check: str, interval_s: float, first_in_s: float = 0.0) -> None:
        self.slots[check] = Slot(interval_s, self.clock.monotonic())
        start = datetime.fromtimestamp(self.clock.time() + first_in_s, UTC)
        self._sched.add_job(
            self._job, IntervalTrigger(seconds=interval_s, start_date=start, timezone=UTC),
            args=[check], id=check, name=check, coalesce=True, max_instances=1,
            misfire_grace_time=max(1, int(interval_s)), next_run_time=start,
        )

    def start(self) -> None:
        self._sched.start()

    def shutdown(self) -> None:
        if self._sched.running:
            self._sched.shutdown(wait=False)

    async def _job(self, check: str) -> None:
        """The APScheduler job: a coroutine, so that it runs on the event loop (a plain
        function would run in the executor's thread pool and race the check workers)."""
        self.fire(check)

    def fire(self, check: str) -> None:
        slot = self.slots[check]
        slot.last_fire_mono = self.clock.monotonic()
        if slot.busy or slot.pending:
            # The previous run is still going: this slot is coalesced into it (counted in
            # status.json). A run going past its timeout is reported by the runner as an
            # overrun; a short overlap at a compressed cadence is not a missed check.
            slot.coalesced += 1
            return
        slot.pending = True
        self.on_fire(check)

    def overdue(self) -> list[str]:
        """Checks not fired for more than two intervals on the monotonic clock; fire them."""
        now = self.clock.monotonic()
        late = [c for c, s in self.slots.items() if now - s.last_fire_mono > 2 * s.interval_s + 1]
        for check in late:
            self.slots[check].missed += 1
            self.log.warning("check_overdue", check=check)
            self.fire(check)
        return late

    def next_run(self, check: str) -> float | None:
        job = self._sched.get_job(check)
        when = job.next_run_time if job is not None else None
        return when.timestamp() if when is not None else None

    def take_missed(self, check: str) -> tuple[int, int]:
        """(missed, coalesced) slots since the last call."""
        slot = self.slots[check]
        counts = (slot.missed, slot.coalesced)
        slot.missed = slot.coalesced = 0
        return counts

    def _missed(self, event: JobExecutionEvent) -> None:
        slot = self.slots.get(str(event.job_id))
        if slot is not None:
            slot.missed += 1
            self.log.warning("check_slot_missed", check=event.job_id, reason="scheduler")


def interval_real(clock: Clock, nominal_s: float, floor_s: float) -> float:
    """A cadence in real seconds: scaled, but never faster than `floor_s`."""
    return max(nominal_s / clock.scale, floor_s)


