"""A real Prometheus Alertmanager (Debian `prometheus-alertmanager`) on loopback receives
burnin's alerts and lists them in its API."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess

import httpx
import pytest

from daemon.alerts.engine import AlertEngine
from daemon.clock import SystemClock
from daemon.model import finding
from tests.alerts.support import running
from tests.channels.servers import until
from tests.channels.smtp import free_port
from tests.conftest import require_binary

pytestmark = pytest.mark.anyio

AM_CONFIG = """route:
  receiver: "null"
receivers:
  - name: "null"
"""


@contextlib.contextmanager
def alertmanager(tmp_path):
    binary = require_binary("prometheus-alertmanager")
    (tmp_path / "am.yml").write_text(AM_CONFIG)
    port = free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def wait_ready(client: httpx.AsyncClient, base: str) -> None:
    for _ in range(300):
        try:
            if (await client.get(base + "/-/ready")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("alertmanager did not become ready")


async def test_alertmanager_lists_burnin_alerts(tmp_path, make_cfg, log):
    """A firing burnin alert appears in Alertmanager's /api/v2/alerts with its labels."""
    with alertmanager(tmp_path) as base:
        async with httpx.AsyncClient() as client:
            await wait_ready(client, base)
            cfg = make_cfg({"webhook": [{"url": base, "format": "alertmanager", "name": "am"}]})
            clock = SystemClock()
            async with running(cfg, clock, log) as eng:
                f = finding("ledger.drift", "agent-07", "snapshot differs by 3.5",
                            {"account": "a"})
                await eng.observe("position", [f], clock.time())
                await until(lambda: eng.pending() == 0)
            alerts = (await client.get(base + "/api/v2/alerts")).json()
    labels = alerts[0]["labels"]
    assert labels["alertname"] == "ledger.drift" and labels["subject"] == "agent-07"
    assert labels["severity"] == "critical" and labels["system"] == "ledger"
    assert alerts[0]["annotations"]["runbook"].startswith("The system's own balance snapshot")


async def test_alertmanager_resolves_burnin_alert(tmp_path, make_cfg, log):
    """A resolved burnin alert is no longer active in Alertmanager."""
    with alertmanager(tmp_path) as base:
        async with httpx.AsyncClient() as client:
            await wait_ready(client, base)
            cfg = make_cfg({"webhook": [{"url": base, "format": "alertmanager", "name": "am"}]})
            clock = SystemClock()
            eng = AlertEngine(cfg, clock, log, window_id="w1", host="h1")
            await eng.start()
            f = finding("process.down", "worker", "not running")
            await eng.observe("health", [f], clock.time() - 5)
            await until(lambda: eng.pending() == 0)
            before = (await client.get(base + "/api/v2/alerts")).json()
            await eng.observe("health", [], clock.time() - 1)
            await until(lambda: eng.pending() == 0)
            await eng.aclose()
            after = (await client.get(base + "/api/v2/alerts")).json()
    assert [a["labels"]["alertname"] for a in before] == ["process.down"]
    assert after == []
