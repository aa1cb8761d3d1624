"""One delivery worker per channel: take the oldest pending outbox message, send it, delete it
only after the channel accepted it. Retryable failures back off (jitter, Retry-After);
permanent ones are kept as `failed`; 410 disables the channel. The worker reports its
channel's health (`ok`, `failing`, `gone`) to the engine, which turns it into alerts.

While SQLite cannot commit (disk full), the engine queues messages in memory (`MemQueue`): the
worker takes those first, and an outcome SQLite refuses to record is owed — the worker reads
no further SQLite row until it is written (else a sent message would be sent again and
again); the engine wakes it when the disk works again."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Callable
from typing import Any

from daemon.alerts import store
from daemon.alerts.memqueue import MemQueue
from daemon.alerts.retry import FAILING_AFTER, backoff
from daemon.channels.base import Channel, EndpointGoneError, Message
from daemon.clock import Clock
from daemon.errors import PermanentDeliveryError, RetryableDeliveryError

Health = Callable[[str, str, str], None]  # (channel, "ok"|"failing"|"gone", detail)
DRAIN_RETRY_S = 1.0  # while the window's end drains, no back-off is longer than this


class Worker:
    def __init__(self, channel: Channel, db: sqlite3.Connection, clock: Clock, log: Any,
                 retry_s: tuple[float, float], health: Health,
                 memory: MemQueue | None = None) -> None:
        self.channel = channel
        self.db = db
        self.clock = clock
        self.log = log
        self.retry_s = retry_s
        self.health = health
        self.wake = asyncio.Event()
        self.failures = 0
        self.sent = 0
        self.rng = random.Random()
        self.stopped = False
        self.draining = False
        self.memory = memory
        self.owed: list[tuple[str, int, tuple]] = []  # (store op, row id, args) not yet written

    def stop(self) -> None:
        """Ask the loop to end (a cancellation swallowed by a library cannot keep it alive)."""
        self.stopped = True
        self.wake.set()

    def retry_now(self) -> int:
        """Cut every back-off of this channel short (start, window end); rows rescheduled."""
        now = self.clock.time()
        self.wake.set()
        try:
            return store.retry_now(self.db, self.channel.name, now)
        except sqlite3.Error as exc:
            self.log.error("alert.retry_now_failed", channel=self.channel.name, error=str(exc))
            return 0

    def drain(self) -> int:
        """The window's end: retry at once, and keep every later back-off short (an attempt
        in flight now may fail after this call; its Retry-After must not outlive the drain)."""
        self.draining = True
        return self.retry_now()

    def queued(self) -> dict[str, Any]:
        """What this channel still has to send: count, oldest message id, last error."""
        rows = store.queued(self.db, self.channel.name)
        oldest = rows[0] if rows else (None, 0, None)
        return {"channel": self.channel.name, "pending": len(rows) - self.owed_sent()
                + self._in_memory(), "oldest": oldest[0], "attempts": oldest[1],
                "last_error": oldest[2]}

    def owed_sent(self) -> int:
        """SQLite rows already accepted by the channel whose deletion the disk refused."""
        return sum(1 for op, _, _ in self.owed if op == "delivered")

    def _in_memory(self) -> int:
        if self.memory is None:
            return 0
        return sum(1 for r in self.memory.rows.values() if r.channel == self.channel.name)

    async def run(self) -> None:
        if self.retry_now():  # a (re)start does not wait out a back-off persisted earlier
            self.log.info("alert.retry_at_start", channel=self.channel.name)
        while not self.stopped:
            self.wake.clear()
            row = self._next()
            now = self.clock.time()
            if row is None:
                await self.wake.wait()
            elif row.next_at > now:
                await self._wait(row.next_at - now)
            elif not await self.attempt(row):
                return

    def _next(self) -> store.OutboxRow | None:
        """Memory-queued messages first (the disk refused them), then the durable outbox once
        every outcome owed to it is written."""
        if self.memory is not None:
            row = self.memory.next_pending(self.channel.name)
            if row is not None:
                return row
        try:
            while self.owed:
                op, row_id, args = self.owed[0]
                getattr(store, op)(self.db, row_id, *args)
                self.owed.pop(0)
            return store.next_pending(self.db, self.channel.name)
        except sqlite3.Error:
            return None  # the engine wakes the worker when the disk works again

    def _settle(self, row: store.OutboxRow, op: str, *args: Any) -> None:
        """Record an attempt's outcome where its row lives; one SQLite refuses is owed."""
        if row.id < 0 and self.memory is not None:
            getattr(self.memory, op)(row.id, *args)
            return
        try:
            getattr(store, op)(self.db, row.id, *args)
        except sqlite3.Error as exc:
            self.log.warning("alert.settle_deferred", channel=self.channel.name,
                             id=row.msg_id, op=op, error=str(exc))
            self.owed.append((op, row.id, args))

    async def _wait(self, delay_s: float) -> None:
        sleeper = asyncio.ensure_future(self.clock.sleep(delay_s))
        waker = asyncio.ensure_future(self.wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def attempt(self, row: store.OutboxRow) -> bool:
        """Send one message; False when the channel is gone and the worker must stop."""
        msg = Message.from_payload(row.msg_id, row.payload)
        if row.id < 0 and self.memory is not None:
            self.memory.claim(row.id)
        try:
            await self.channel.send(msg)
        except EndpointGoneError as exc:
            self._gone(str(exc))
            return False
        except PermanentDeliveryError as exc:
            self._settle(row, "give_up", "failed", str(exc))
            self._failed(row, str(exc), permanent=True)
        except RetryableDeliveryError as exc:
            delay = backoff(row.attempts, *self.retry_s, self.rng.random(), exc.retry_after_s)
            if self.draining:
                delay = min(delay, DRAIN_RETRY_S)
            self._settle(row, "retry_later", self.clock.time() + delay, str(exc))
            self._failed(row, str(exc), permanent=False)
        else:
            self._settle(row, "delivered")
            self._ok(row)
        return True

    def _ok(self, row: store.OutboxRow) -> None:
        self.sent += 1
        self.log.debug("alert.delivered", channel=self.channel.name, id=row.msg_id,
                       attempts=row.attempts + 1)
        if self.failures >= FAILING_AFTER:
            self.health(self.channel.name, "ok", "")
        self.failures = 0

    def _failed(self, row: store.OutboxRow, error: str, *, permanent: bool) -> None:
        self.failures += 1
        self.log.warning("alert.delivery_failed", channel=self.channel.name, id=row.msg_id,
                         attempt=row.attempts + 1, permanent=permanent, error=error)
        if self.failures == FAILING_AFTER:
            self.health(self.channel.name, "failing", error)

    def _gone(self, error: str) -> None:
        if self.memory is not None:
            self.memory.drop_channel(self.channel.name)
        try:
            store.disable(self.db, self.channel.name, error, self.clock.time())
        except sqlite3.Error as exc:
            self.log.error("alert.disable_not_saved", channel=self.channel.name, error=str(exc))
        self.log.error("alert.endpoint_disabled", channel=self.channel.name, error=error)
        self.health(self.channel.name, "gone", error)
