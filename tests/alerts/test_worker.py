"""daemon/alerts/worker.py: one delivery worker per channel, over a real SQLite outbox and a
real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from daemon.alerts import store
from daemon.alerts.retry import FAILING_AFTER
from daemon.alerts.worker import Worker
from daemon.channels.build import build, http_client
from daemon.clock import FakeClock
from tests.channels.servers import HookServer, Reply

pytestmark = pytest.mark.anyio

RECORD = {"schema": "burnin.alert/1", "fingerprint": "abc123", "status": "firing",
          "code": "ledger.drift", "severity": "CRITICAL", "kind": "condition",
          "subject": "agent-07", "message": "drift 3.5", "runbook": "Look at it.",
          "first_seen": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z",
          "resolved_at": None, "escalated_from": None, "system": "ledger", "host": "h1",
          "window_id": "w1", "evidence": {"account": "agent-07"}, "reason": "first"}
PAYLOAD = {"type": "alerts", "system": "ledger", "created": 0.0, "records": [RECORD]}


class Setup:
    """A worker on the config's webhook, its outbox, the health reports it made."""

    def __init__(self, worker: Worker, db: Any, health: list[tuple[str, str, str]]) -> None:
        self.worker, self.db, self.health = worker, db, health

    def enqueue(self, msg_id: str = "m1") -> store.OutboxRow:
        store.enqueue(self.db, msg_id, self.worker.channel.name, PAYLOAD, 0.0)
        row = store.next_pending(self.db, self.worker.channel.name)
        assert row is not None
        return row


@pytest.fixture
def setup(tmp_path: Path, make_cfg: Callable[..., Any], log: Any) -> Callable[..., Any]:
    @contextlib.asynccontextmanager
    async def make(srv: HookServer) -> AsyncIterator[Setup]:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "ops"}]})
        clock = FakeClock(start=100.0)
        health: list[tuple[str, str, str]] = []
        db = store.connect(tmp_path / "alerts.db")
        async with http_client() as client:
            (hook,) = [c for c in build(cfg, clock, client) if c.name.startswith("webhook")]
            worker = Worker(hook, db, clock, log, (1.0, 8.0), lambda *h: health.append(h))
            yield Setup(worker, db, health)
        db.close()

    return make


async def test_accepted_message_leaves_the_outbox(setup: Callable[..., Any]) -> None:
    """A message the receiver accepts is sent once and then deleted."""
    async with HookServer() as srv, setup(srv) as s:
        assert await s.worker.attempt(s.enqueue())
        assert len(srv.requests) == 1 and store.outbox_rows(s.db) == []
        assert s.worker.sent == 1


async def test_server_error_backs_off(setup: Callable[..., Any]) -> None:
    """A 503 keeps the message pending, one attempt counted, due again later."""
    async with HookServer(Reply(503)) as srv, setup(srv) as s:
        await s.worker.attempt(s.enqueue())
        row = store.next_pending(s.db, s.worker.channel.name)
        assert row is not None and row.attempts == 1 and row.next_at > 100.0


async def test_client_error_is_kept_as_failed(setup: Callable[..., Any]) -> None:
    """A 400 is permanent: the message is kept as `failed`, not retried."""
    async with HookServer(Reply(400)) as srv, setup(srv) as s:
        await s.worker.attempt(s.enqueue())
        assert [r["status"] for r in store.outbox_rows(s.db)] == ["failed"]
        assert store.next_pending(s.db, s.worker.channel.name) is None


async def test_gone_endpoint_stops_the_worker(setup: Callable[..., Any]) -> None:
    """A 410 disables the channel, reports it `gone` and ends the worker's loop."""
    async with HookServer(Reply(410)) as srv, setup(srv) as s:
        s.enqueue()
        await asyncio.wait_for(s.worker.run(), 10.0)
        assert s.worker.channel.name in store.disabled_channels(s.db)
        assert [h[1] for h in s.health] == ["gone"]


async def test_failing_is_reported_once_then_ok(setup: Callable[..., Any]) -> None:
    """After FAILING_AFTER failed attempts the channel is `failing` once; a success makes it ok."""
    replies = [Reply(503) for _ in range(FAILING_AFTER + 1)]
    async with HookServer(*replies) as srv, setup(srv) as s:
        row = s.enqueue()
        for _ in range(FAILING_AFTER + 2):
            await s.worker.attempt(row)
        assert [h[1] for h in s.health] == ["failing", "ok"]


async def test_retry_now_makes_backed_off_messages_due(setup: Callable[..., Any]) -> None:
    """`retry_now` cuts the back-off short: the message is due at once."""
    async with HookServer(Reply(503)) as srv, setup(srv) as s:
        await s.worker.attempt(s.enqueue())
        assert s.worker.retry_now() == 1
        row = store.next_pending(s.db, s.worker.channel.name)
        assert row is not None and row.next_at == 100.0
        assert s.worker.queued()["pending"] == 1
