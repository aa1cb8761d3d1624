"""kill -9 between decision and delivery: the notification goes out after restart, same id."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import orjson
import pytest

from daemon.alerts.engine import AlertEngine
from daemon.clock import SystemClock
from tests.channels.servers import HookServer, Reply, until

pytestmark = pytest.mark.anyio

CHILD = """
import asyncio, json, sys
from daemon.alerts.engine import AlertEngine
from daemon.clock import SystemClock
from daemon.config import load_config
from daemon.model import finding

class NullLog:
    def __getattr__(self, name):
        return lambda *args, **kw: None

async def main():
    cfg = load_config(None, overrides=json.loads(sys.argv[1]), env={})
    clock = SystemClock()
    eng = AlertEngine(cfg, clock, NullLog(), window_id="w1", host="h1")
    await eng.start()
    await eng.observe("health", [finding("process.down", "worker", "down")], clock.time())
    print("committed", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_sigkill_before_delivery_resends_same_id(tmp_path, make_cfg, log):
    """A child killed with SIGKILL mid-delivery: after restart the webhook gets the same id."""
    release = asyncio.Event()
    async with HookServer(Reply(hold=release)) as srv:
        overrides = {
            "daemon": {"runtime_dir": str(tmp_path / "runtime"),
                       "log_dir": str(tmp_path / "logs")},
            "system": {"name": "ledger"},
            "alerts": {"webhook": [{"url": srv.url, "name": "ops", "timeout": "60s"}]},
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, json.dumps(overrides),
            cwd=Path(__file__).resolve().parents[2], stdout=asyncio.subprocess.PIPE)
        assert (await child.stdout.readline()).strip() == b"committed"
        await until(lambda: len(srv.requests) == 1)
        child.send_signal(signal.SIGKILL)
        await child.wait()
        release.set()
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "ops"}]})
        eng = AlertEngine(cfg, SystemClock(), log, window_id="w1", host="h1")
        await eng.start()
        await until(lambda: len(srv.requests) == 2 and eng.pending() == 0)
        await eng.aclose()
    ids = {r.headers["webhook-id"] for r in srv.requests}
    lines = [orjson.loads(x) for x in (tmp_path / "logs/alerts.jsonl").read_bytes().splitlines()]
    assert len(ids) == 1 and {x["notification_id"] for x in lines} == ids
    assert 1 <= len(lines) <= 2
