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
from daemon.model import Severity, finding
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


async def test_escalation_leaves_no_stale_copy(tmp_path, make_cfg, log):
    """HIGH -> CRITICAL: the same push ends the HIGH copy; one active alert remains."""
    with alertmanager(tmp_path) as base:
        async with httpx.AsyncClient() as client:
            await wait_ready(client, base)
            cfg = make_cfg({"webhook": [{"url": base, "format": "alertmanager", "name": "am"}]})
            clock = SystemClock()
            async with running(cfg, clock, log) as eng:
                for sev in (Severity.HIGH, Severity.CRITICAL):
                    f = finding("ledger.drift", "agent-07", "drift", severity=sev)
                    await eng.observe("position", [f], clock.time())
                    await until(lambda: eng.pending() == 0)
                    seen = (await client.get(base + "/api/v2/alerts")).json()
                    assert [a["labels"]["severity"] for a in seen] == [sev.name.lower()]
            active = (await client.get(base + "/api/v2/alerts",
                                       params={"active": "true"})).json()
    assert [(a["labels"]["alertname"], a["labels"]["severity"], a["status"]["state"])
            for a in active] == [("ledger.drift", "critical", "active")]


def test_escalated_record_ends_every_lower_tier():
    """MEDIUM -> CRITICAL (through HIGH): both lower copies are ended, same labels."""
    from daemon.channels import formats
    from daemon.channels.base import Message

    rec = {"code": "c.x", "severity": "CRITICAL", "escalated_from": "MEDIUM", "status": "firing",
           "subject": "s", "system": "sys", "host": "h", "message": "m", "window_id": "w",
           "fingerprint": "fp", "first_seen": "2026-01-01T00:00:00.000Z", "resolved_at": None}
    body = formats.alertmanager(Message("m", "alerts", "sys", 0.0, [rec]), 1767225600.0)
    assert [(a["labels"]["severity"], a["endsAt"]) for a in body] == [
        ("medium", "2026-01-01T00:00:00.000Z"), ("high", "2026-01-01T00:00:00.000Z"),
        ("critical", "2026-01-01T04:00:00.000Z")]
    assert all(a["labels"]["subject"] == "s" and a["startsAt"] == rec["first_seen"]
               for a in body)
