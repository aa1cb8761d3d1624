"""`AlertEngine.drain` waits for the workers (woken as each message settles, no poll), and
the workers live in the engine's task group: a reconfigure or close ends them all."""

from __future__ import annotations

import asyncio

import pytest

from daemon.clock import SystemClock
from daemon.model import finding
from tests.alerts.support import running
from tests.channels.servers import HookServer, Reply

pytestmark = pytest.mark.anyio


def hook(url: str) -> dict:
    return {"webhook": [{"url": url, "name": "ops", "min_severity": "INFO"}],
            "group_wait": "0s"}


async def test_drain_waits_for_the_held_delivery_and_times_out(make_cfg, log):
    release = asyncio.Event()
    async with HookServer(Reply(hold=release)) as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("h", [finding("process.down", "w", "down")], clock.time())
            assert await eng.drain(0.3) is False and eng.pending() == 1
            release.set()
            assert await eng.drain(5.0) is True and eng.pending() == 0
            assert len(srv.requests) == 1


async def test_reconfigure_restarts_workers_in_the_task_group(make_cfg, log):
    """A changed [alerts] table: old workers end, new ones deliver what is pending."""
    async with HookServer() as a, HookServer() as b:
        cfg = make_cfg(hook(a.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("h", [finding("process.down", "w", "down")], clock.time())
            assert await eng.drain(5.0)
            old = eng.workers["webhook:ops"]
            await eng.configure(make_cfg(hook(b.url)))
            assert old.stopped and eng.workers["webhook:ops"] is not old
            await eng.observe("h", [finding("process.down", "w2", "down")], clock.time())
            assert await eng.drain(5.0)
            assert len(a.requests) == 1 and len(b.requests) == 1
