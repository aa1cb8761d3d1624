"""Bad input never crashes the engine; every code carries its runbook."""

from __future__ import annotations

import decimal

import orjson
import pytest

from daemon.alerts import store
from daemon.alerts.engine import AlertEngine
from daemon.alerts.state import fingerprint
from daemon.catalog import CATALOG, markdown_table
from daemon.clock import FakeClock
from daemon.model import Finding, Kind, Severity, finding
from tests.channels.servers import HookServer, until

pytestmark = pytest.mark.anyio


async def start(cfg, clock, log):
    eng = AlertEngine(cfg, clock, log, window_id="w1", host="h1")
    await eng.start()
    return eng


async def test_odd_evidence_and_unknown_code_are_delivered(make_cfg, log):
    """Bytes, Decimal, NaN evidence and an uncatalogued code reach log and webhook."""
    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "min_severity": "INFO"}]})
        eng = await start(cfg, FakeClock(), log)
        odd = Finding("custom.thing", Severity.CRITICAL, "s\x00\n<b>", "m\r\n",
                      {"b": b"\xff", "d": decimal.Decimal("1.10"), "n": float("nan"),
                       "nested": {1: object()}, "huge": 2**70}, Kind.EVENT)
        await eng.observe("x", [odd], 0.0)
        await until(lambda: srv.requests and eng.pending() == 0)
        await eng.aclose()
    line = orjson.loads((cfg.log_dir / "alerts.jsonl").read_bytes().splitlines()[0])
    assert line["code"] == "custom.thing" and line["evidence"]["d"] == "1.10"
    assert line["evidence"]["huge"] == str(2**70)


async def test_corrupt_database_is_moved_aside(make_cfg, log):
    """A corrupt alerts.sqlite3 is kept aside and a fresh one is used."""
    cfg = make_cfg()
    cfg.runtime_dir.mkdir(parents=True)
    (cfg.runtime_dir / "alerts.sqlite3").write_bytes(b"not a database" * 100)
    eng = await start(cfg, FakeClock(), log)
    await eng.observe("health", [finding("process.down", "w", "down")], 0.0)
    await eng.aclose()
    assert list(cfg.runtime_dir.glob("alerts.sqlite3.corrupt-*"))
    assert any(event == "alerts.db_corrupt" for _, event, _ in log.lines)


async def test_state_survives_restart(make_cfg, log):
    """An open alert is still open (not re-notified) after a restart."""
    cfg = make_cfg()
    clock = FakeClock()
    eng = await start(cfg, clock, log)
    await eng.observe("health", [finding("process.down", "w", "down")], clock.time())
    await eng.aclose()
    eng = await start(cfg, clock, log)
    await eng.observe("health", [finding("process.down", "w", "down")], clock.time())
    opened = eng.open_alerts()
    await until(lambda: eng.pending() == 0)
    await eng.aclose()
    lines = (cfg.log_dir / "alerts.jsonl").read_bytes().splitlines()
    assert len(opened) == 1 and len(lines) == 1


async def test_reack_after_expiry(make_cfg, log):
    """A second ack after the first expired stops repeats again."""
    from daemon.alerts import cli

    cfg = make_cfg()
    clock = FakeClock()
    eng = await start(cfg, clock, log)
    await eng.observe("health", [finding("process.down", "w", "down")], clock.time())
    fp = fingerprint("process.down", "w")
    cli.ack(cfg, fp, 60.0, "first", clock.time())
    await eng.tick(clock.time())
    clock.advance(120)
    await eng.tick(clock.time())
    cli.ack(cfg, fp, None, "second", clock.time())
    await eng.tick(clock.time())
    acked = eng.open_alerts()[0]["acked"]
    await eng.aclose()
    assert acked


def test_every_code_has_a_runbook():
    """Every catalog code has a runbook paragraph, and the README table lists it."""
    table = markdown_table()
    for code, info in CATALOG.items():
        assert len(info.runbook) > 40, code
        assert f"`{code}`" in table


async def test_failed_commit_is_logged_and_kept_in_memory_until_the_disk_works(make_cfg, log):
    """A database that refuses writes does not crash observe nor drop the decision: it is
    applied in memory (with daemon.runtime_unwritable for the database) and written to
    SQLite by the first tick once the database commits again (issue 18 item 2)."""
    cfg = make_cfg()
    eng = await start(cfg, FakeClock(), log)
    eng.db.execute("PRAGMA query_only = ON")
    await eng.observe("health", [finding("process.down", "w", "down")], 0.0)
    await eng.tick(0.5)  # still refused: observed again (a sampled condition fires)
    failed = {a["code"] for a in eng.open_alerts()}
    mode = eng.outbox_state()
    eng.db.execute("PRAGMA query_only = OFF")
    await eng.tick(1.0)
    stored = {s.code for s in store.load_states(eng.db).values() if s.open}
    await eng.aclose()
    assert failed == {"process.down", "daemon.runtime_unwritable"} and mode == "memory"
    assert stored == {"process.down"}  # runtime_unwritable resolved by the recovery
    assert any(event == "alerts.commit_failed" for _, event, _ in log.lines)
