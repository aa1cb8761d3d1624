"""The dead-man's switch: GET `[alerts.deadman] url` every `interval` (healthchecks.io style),
so that burnin's own death is noticed from outside. A failed ping is logged, never raised;
the URL (often a secret token) is never logged."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import anyio
import httpx

from daemon.clock import Clock, real
from daemon.config import DeadmanCfg


class Deadman:
    def __init__(self, cfg: DeadmanCfg, clock: Clock, client: httpx.AsyncClient,
                 log: Any) -> None:
        self.cfg, self.clock, self.client, self.log = cfg, clock, client, log
        self.next_at: float | None = None
        self.task: asyncio.Task | None = None
        self.pings = 0
        self.failures = 0

    def maybe_ping(self, now: float) -> None:
        """Start a ping when one is due and none is in flight (never blocks the tick)."""
        if self.next_at is not None and now < self.next_at:
            return
        if self.task is not None and not self.task.done():
            return
        self.next_at = now + real(self.clock, self.cfg.interval)
        self.task = asyncio.get_running_loop().create_task(self.ping())

    async def ping(self) -> bool:
        try:
            with anyio.fail_after(10.0):
                resp = await self.client.get(self.cfg.url)
            ok = 200 <= resp.status_code < 300
            detail = f"HTTP {resp.status_code}"
        except (TimeoutError, httpx.HTTPError) as exc:
            ok, detail = False, type(exc).__name__
        self.pings += ok
        self.failures += not ok
        if not ok:
            self.log.warning("deadman.ping_failed", detail=detail)
        return ok

    async def aclose(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
