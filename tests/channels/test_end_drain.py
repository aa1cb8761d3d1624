"""The window's last minute (SPEC §5, issue 18 item 5): a back-off never outlives its reason.
At the end pending deliveries are retried at once and given `window.end_drain`; a start
retries at once; an outage is probed every few seconds, so a returning receiver is found fast.
Real receivers on loopback; the persisted back-off is an hour (Retry-After), so any test that
passes did not wait it out."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import orjson
import pytest

from daemon.alerts.retry import backoff
from daemon.clock import SystemClock
from daemon.config import AlertsCfg
from daemon.model import finding
from tests.alerts.support import running
from tests.channels.servers import HookServer, Reply, until
from tests.channels.verdicts import verdict_message

pytestmark = pytest.mark.anyio
REPO = Path(__file__).parents[2]
AN_HOUR = Reply(503, {"retry-after": "3600"})


def subjects(srv: HookServer) -> list[str]:
    docs = [orjson.loads(r.body) for r in srv.requests]
    return [a["subject"] for d in docs for a in d["alerts"]] + \
        [d["verdict"] for d in docs if d["type"] == "verdict"]


async def test_end_drain_cuts_an_hour_of_back_off_short(make_cfg, log):
    """Receiver down (Retry-After 1 h) while 5 alerts queue, back before the end: the drain
    delivers all 5 and the verdict, in order, within its budget."""
    async with HookServer(AN_HOUR) as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h"}]})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            for i in range(5):
                await eng.observe(f"r{i}", [finding("process.down", f"w{i}", "down")],
                                  clock.time())
            await until(lambda: len(srv.requests) == 1)  # refused: an hour's back-off
            await eng.notify_verdict(verdict_message())
            assert await eng.drain(20.0)
    assert subjects(srv) == ["w0", "w0", "w1", "w2", "w3", "w4", "RED"]


async def test_start_does_not_wait_out_a_persisted_back_off(make_cfg, log):
    """A message refused with Retry-After 1 h goes out as soon as the next start runs."""
    async with HookServer(AN_HOUR) as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h"}]})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("r", [finding("process.down", "w", "down")], clock.time())
            # the refusal and its hour-long back-off are stored, not just received
            await until(lambda: any(w.queued()["attempts"] == 1 for w in eng.workers.values()))
        async with running(cfg, clock, log) as eng:
            await until(lambda: eng.pending() == 0)
    first, again = (r.headers["webhook-id"] for r in srv.requests)
    assert first == again  # the same message, sent again at start
    assert any(e == "alert.retry_at_start" for _, e, _ in log.lines)


async def test_what_stays_queued_is_logged(make_cfg, log):
    """A receiver still down at the end: drain gives up and logs channel, count, error."""
    async with HookServer(*[AN_HOUR] * 50) as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h"}]})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("r", [finding("process.down", "w", "down")], clock.time())
            await eng.notify_verdict(verdict_message())
            assert not await eng.drain(0.5)
    (left,) = [kw for _, e, kw in log.lines if e == "alert.still_queued"]
    assert (left["channel"], left["pending"]) == ("webhook:h", 2)
    assert left["last_error"] == "webhook:h: HTTP 503"


def test_default_back_off_finds_a_returning_receiver_within_seconds():
    """With the defaults, no retry delay exceeds 5 s real, however long the outage."""
    defaults = AlertsCfg()
    assert defaults.retry_max == 5.0
    delays = [backoff(n, defaults.retry_base, defaults.retry_max, 0.999) for n in range(200)]
    assert max(delays) <= 5.0 and delays[0] < 1.0


class LateReceiver(HookServer):
    """503 + Retry-After 1 h until the daemon's final report exists, then 200."""

    def __init__(self, final: Path) -> None:
        super().__init__()
        self.final = final
        self.accepted: list[dict] = []

    async def _reply(self, writer, reply):
        ok = any(self.final.glob("*/final.json"))
        if ok:
            self.accepted.append(orjson.loads(self.requests[-1].body))
        await super()._reply(writer, Reply() if ok else AN_HOUR)


@pytest.mark.slow
async def test_daemon_delivers_every_alert_and_the_verdict_before_exit(seed_tree, tmp_path):
    """The real daemon, a CRITICAL mid-window, a receiver refusing (1 h back-off) until the
    window ended: at exit the outbox for it is empty and it got the RED verdict."""
    (seed_tree / "runtime/system_state.json").write_text('{"state": "RUNN')
    async with LateReceiver(tmp_path / "runtime/reports") as srv:
        cfg = tmp_path / "burnin.toml"
        cfg.write_text(f"[checks]\ndisabled = ['host']\n[window]\nend_drain = '20s'\n"
                       f"[[alerts.webhook]]\nurl = '{srv.url}'\nname = 'late'\n")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "daemon", "run", "--config", str(cfg), "--root",
            str(seed_tree), "--window", "2h", "--time-scale", "3600", cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 2, err.decode()[-2000:]
    db = sqlite3.connect(tmp_path / "runtime/alerts.sqlite3")
    left = db.execute("SELECT count(*) FROM outbox WHERE channel = 'webhook:late'").fetchone()
    assert left == (0,)
    assert srv.accepted[-1]["type"] == "verdict" and srv.accepted[-1]["verdict"] == "RED"
    codes = {a["code"] for d in srv.accepted for a in d["alerts"]}
    assert "state.corrupt" in codes


async def test_sigterm_during_the_drain_ends_it(make_cfg, log):
    """A stop asked while the drain waits on a dead receiver ends it (the unit's stop timeout
    is shorter than end_drain); the messages stay queued and logged."""
    async with HookServer(*[AN_HOUR] * 50) as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h"}]})
        async with running(cfg, SystemClock(), log) as eng:
            await eng.notify_verdict(verdict_message())
            await until(lambda: len(srv.requests) >= 1)
            asked = asyncio.Event()
            asyncio.get_running_loop().call_later(0.2, asked.set)
            done = await asyncio.wait_for(eng.drain(3600.0, asked.is_set), 60.0)
            assert done is False and eng.pending() == 1
    assert [kw["pending"] for _, e, kw in log.lines if e == "alert.still_queued"] == [1]
