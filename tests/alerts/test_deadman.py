"""daemon/alerts/deadman.py: the dead-man's switch pings a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from daemon.alerts.deadman import Deadman
from daemon.channels.build import http_client
from daemon.clock import FakeClock
from daemon.config import DeadmanCfg
from tests.alerts.support import ListLog
from tests.channels.servers import HookServer, Reply, until

pytestmark = pytest.mark.anyio


async def test_ping_is_a_get_of_the_url() -> None:
    """A ping GETs the configured URL and counts a success on 2xx."""
    async with HookServer() as srv, http_client() as client:
        deadman = Deadman(DeadmanCfg(url=srv.url + "?token=s3cret"), FakeClock(), client, ListLog())
        assert await deadman.ping()
        assert [(r.method, r.path) for r in srv.requests] == [("GET", "/hook?token=s3cret")]
        assert (deadman.pings, deadman.failures) == (1, 0)


async def test_failed_ping_is_logged_without_the_url() -> None:
    """A 500 is a failure, logged with its status and never with the (secret) URL."""
    log = ListLog()
    async with HookServer(Reply(500)) as srv, http_client() as client:
        deadman = Deadman(DeadmanCfg(url=srv.url + "?token=s3cret"), FakeClock(), client, log)
        assert not await deadman.ping()
    assert log.lines == [("warning", "deadman.ping_failed", {"detail": "HTTP 500"})]
    assert "s3cret" not in log.text() and deadman.failures == 1


async def test_unreachable_url_is_a_failure_not_a_crash() -> None:
    """Nobody listening: the ping returns False, it does not raise."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with http_client() as client:
        deadman = Deadman(DeadmanCfg(url=f"http://127.0.0.1:{port}/"), FakeClock(), client,
                          ListLog())
        assert not await deadman.ping()
    assert deadman.failures == 1


async def test_pings_follow_the_scaled_interval() -> None:
    """A ping is due once per interval in real seconds (interval / time scale)."""
    clock = FakeClock(start=0.0, scale=10.0)
    async with HookServer() as srv, http_client() as client:
        deadman = Deadman(DeadmanCfg(url=srv.url, interval=300.0), clock, client, ListLog())
        deadman.maybe_ping(0.0)
        await until(lambda: deadman.pings == 1)
        deadman.maybe_ping(29.0)  # 300 s at scale 10 is 30 real seconds
        deadman.maybe_ping(30.0)
        await until(lambda: deadman.pings == 2)
        await deadman.aclose()
        assert len(srv.requests) == 2
