"""Issue 18 item 2: alerting outlives a full runtime disk (SPEC §5). A real 2 MiB tmpfs holds
runtime/ (alerts.sqlite3), filled to the last byte by `dd`; a real webhook receiver on
127.0.0.1 and the alert log (on another disk) are the channels."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import orjson
import pytest

from daemon.alerts import store
from daemon.clock import SystemClock
from daemon.model import finding
from tests.alerts.support import log, make_cfg, running  # noqa: F401 (fixtures)
from tests.channels.servers import HookServer, Reply, until
from tests.degrade.conftest import REPO, Mount, fill

pytestmark = pytest.mark.anyio
AN_HOUR = Reply(503, {"retry-after": "3600"})


def received(srv: HookServer) -> list[tuple[str, str, str]]:
    """(message id, code, subject) of every alert the receiver got, in arrival order."""
    out = []
    for r in srv.requests:
        doc = orjson.loads(r.body)
        out += [(r.headers["webhook-id"], a["code"], a["subject"]) for a in doc["alerts"]]
    return out


def firing(srv: HookServer) -> set[tuple[str, str]]:
    return {(c, s) for _, c, s in received(srv)}


async def start_daemon(runtime: Path, srv: HookServer, seed_tree: Path, tmp_path: Path,
                       window: str, extra: str) -> asyncio.subprocess.Process:
    """The real daemon, its runtime/ at `runtime`, the webhook `srv`, `extra` [window] keys."""
    cfg = tmp_path / "burnin.toml"
    cfg.write_text(f"[checks]\ndisabled = ['host']\n[window]\n{extra}\n"
                   f"[daemon]\nruntime_dir = '{runtime}'\nlog_dir = '{tmp_path / 'logs'}'\n"
                   f"[[alerts.webhook]]\nurl = '{srv.url}'\nname = 'h'\n")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "daemon", "run", "--config", str(cfg), "--root",
        str(seed_tree), "--window", window, "--time-scale", "3600", cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def tick_until(eng, clock, cond, timeout_s: float = 20.0) -> None:
    """The supervisor's tick (every 0.5 s in the daemon), here as fast as the loop allows."""
    async def ticking() -> bool:
        await eng.tick(clock.time())
        return bool(cond())

    async with asyncio.timeout(timeout_s):
        while not await ticking():
            await asyncio.sleep(0.01)


async def test_alerts_fired_on_a_full_runtime_disk_are_delivered_then_stored(
        tmpfs: Mount, make_cfg, log, tmp_path: Path) -> None:  # noqa: F811
    runtime = tmpfs("runtime", size="2m")
    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h"}]})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("r0", [finding("process.down", "w0", "down")], clock.time())
            await until(lambda: ("process.down", "w0") in firing(srv))
            store.checkpoint(eng.db)  # no WAL left to reuse: the next commit must grow it
            filler = fill(runtime)
            for i in range(1, 6):
                await eng.observe(f"r{i}", [finding("process.down", f"w{i}", "down")],
                                  clock.time())
            mode = eng.outbox_state()
            db_alert = ("daemon.runtime_unwritable", str(runtime / "alerts.sqlite3"))
            await tick_until(eng, clock, lambda: db_alert in firing(srv))
            await until(lambda: {("process.down", f"w{i}") for i in range(6)} <= firing(srv))
            status_mode = eng.outbox_state()
            filler.unlink()
            await tick_until(eng, clock, lambda: eng.outbox_state() == "sqlite")
            await until(lambda: eng.pending() == 0)
            free_after = shutil.disk_usage(runtime).free
            await eng.observe("r9", [finding("process.down", "w9", "down")], clock.time())
            await until(lambda: ("process.down", "w9") in firing(srv))
            stored = {s.subject for s in store.load_states(eng.db).values() if s.open}
    assert mode == "memory" and status_mode == "memory"
    assert free_after > 1 << 20  # the WAL did not regrow into the freed space
    assert stored == {f"w{i}" for i in [0, 1, 2, 3, 4, 5, 9]}  # written back at recovery
    ids = [m for m, _, _ in received(srv)]
    assert len(ids) == len(set(ids))  # nothing delivered twice
    alertlog = (tmp_path / "logs/alerts.jsonl").read_text()
    assert all(f'"w{i}"' in alertlog for i in range(1, 6))  # the log channel on its own disk
    assert [e for _, e, _ in log.lines].count("alerts.commit_failed") == 1


async def test_undelivered_memory_messages_move_to_sqlite_and_are_sent_once_back(
        tmpfs: Mount, make_cfg, log) -> None:  # noqa: F811
    """The receiver refuses (Retry-After 1 h) while the disk is full: when space returns the
    message is written to SQLite with its id and sent at once, not after the hour."""
    runtime = tmpfs("runtime", size="2m")
    async with HookServer(AN_HOUR) as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h"}]})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            store.checkpoint(eng.db)
            filler = fill(runtime)
            await eng.observe("r", [finding("process.down", "w", "down")], clock.time())
            await until(lambda: len(srv.requests) == 1)  # refused: an hour's back-off
            await until(lambda: [r.attempts for r in eng.memory.rows.values()] == [1])
            filler.unlink()
            await tick_until(eng, clock, lambda: len(srv.requests) >= 2)
            await until(lambda: eng.pending() == 0)
    first, again = (r.headers["webhook-id"] for r in srv.requests[:2])
    assert first == again  # the same message, at least once
    assert [s for _, c, s in received(srv) if c == "process.down"] == ["w", "w"]
    db = sqlite3.connect(runtime / "alerts.sqlite3")
    assert db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone() == (0,)


async def test_a_stored_message_sent_while_the_disk_is_full_is_not_sent_again(
        tmpfs: Mount, make_cfg, log) -> None:  # noqa: F811
    """A message stored before the disk filled is accepted while SQLite cannot record it:
    the deletion is owed (no resend loop), memory messages still go out, and the deletion is
    written once the disk takes it."""
    runtime = tmpfs("runtime", size="2m")
    async with HookServer(Reply(503, {"retry-after": "1"})) as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h"}]})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("r1", [finding("process.down", "w1", "down")], clock.time())
            await until(lambda: eng.workers["webhook:h"].queued()["attempts"] == 1)
            store.checkpoint(eng.db)
            filler = fill(runtime)
            await until(lambda: len(srv.requests) == 2)  # accepted; its deletion refused
            await eng.observe("r2", [finding("process.down", "w2", "down")], clock.time())
            await until(lambda: ("process.down", "w2") in firing(srv))
            await until(lambda: eng.pending() == 0)  # an owed deletion is not pending
            owed = eng.workers["webhook:h"].owed_sent()
            filler.unlink()
            await tick_until(eng, clock, lambda: eng.outbox_state() == "sqlite")
            await until(lambda: eng.outbox.pending() == 0)  # the owed deletion written
    assert [s for _, c, s in received(srv) if c == "process.down"] == ["w1", "w1", "w2"]
    assert owed == 1  # the accepted w1, deleted only once the disk took it
    assert any(e == "alert.settle_deferred" for _, e, _ in log.lines)


async def test_the_wal_is_truncated_and_the_database_bounded(make_cfg, log) -> None:  # noqa: F811
    """journal_size_limit and max_page_count are set; a checkpoint truncates the WAL."""
    cfg = make_cfg({"max_db_bytes": 1 << 20})
    async with running(cfg, SystemClock(), log) as eng:
        for i in range(50):
            await eng.observe(f"r{i}", [finding("process.down", f"w{i}", "d" * 2000)], 0.0)
        wal = Path(str(cfg.runtime_dir / "alerts.sqlite3") + "-wal")
        grown = wal.stat().st_size
        store.checkpoint(eng.db)
        truncated = wal.stat().st_size
        limit = eng.db.execute("PRAGMA journal_size_limit").fetchone()[0]
        pages = eng.db.execute("PRAGMA max_page_count").fetchone()[0]
        page = eng.db.execute("PRAGMA page_size").fetchone()[0]
    assert grown > 0 and truncated == 0
    assert limit == store.WAL_LIMIT_BYTES and pages * page <= 1 << 20


@pytest.mark.slow
async def test_daemon_on_a_full_runtime_disk_alerts_and_ends_with_the_verdict(
        tmpfs: Mount, seed_tree: Path, tmp_path: Path) -> None:
    """The real daemon, runtime/ on a 2 MiB tmpfs filled by dd shortly after start, then a
    CRITICAL: the alert and daemon.runtime_unwritable reach the webhook, and the window's end
    (reports unwritable) still sends the RED verdict and exits 2, not 1."""
    runtime = tmpfs("runtime", size="2m")
    async with HookServer() as srv:
        proc = await start_daemon(runtime, srv, seed_tree, tmp_path, "40h",
                                  "end_drain = '10s'")
        try:
            await until(lambda: (runtime / "status.json").exists(), 30.0)
            with sqlite3.connect(runtime / "alerts.sqlite3") as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            fill(runtime)
            (seed_tree / "runtime/system_state.json").write_text('{"state": "RUNN')
            _, err = await asyncio.wait_for(proc.communicate(), 120)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    docs = [orjson.loads(r.body) for r in srv.requests]
    codes = {a["code"] for d in docs for a in d["alerts"]}
    assert proc.returncode == 2, err.decode()[-3000:]
    assert {"state.corrupt", "daemon.runtime_unwritable"} <= codes
    assert docs[-1]["type"] == "verdict" and docs[-1]["verdict"] == "RED"
    assert "Traceback" not in err.decode()
    assert not (runtime / "reports").exists() or not any(runtime.glob("reports/*/final.json"))


async def test_a_database_at_max_db_bytes_runs_from_memory(make_cfg, log) -> None:  # noqa: F811
    """`alerts.max_db_bytes` reached is a full disk to the outbox: the alerts stay open in
    memory and daemon.runtime_unwritable names the database."""
    cfg = make_cfg({"max_db_bytes": 1 << 20})
    async with running(cfg, SystemClock(), log) as eng:
        for i in range(200):
            await eng.observe(f"r{i}", [finding("process.down", f"w{i}", "d" * 8000)], 0.0)
            await eng.tick(float(i))
        mode = eng.outbox_state()
        codes = [a["code"] for a in eng.open_alerts()]
        size = (cfg.runtime_dir / "alerts.sqlite3").stat().st_size
    assert mode == "memory" and size <= 1 << 20
    assert codes.count("process.down") == 200  # no decision dropped
    assert "daemon.runtime_unwritable" in codes


@pytest.mark.slow
async def test_the_next_window_waits_for_the_disk_instead_of_crashing(
        tmpfs: Mount, seed_tree: Path, tmp_path: Path) -> None:
    """on_end = "continue" on a full runtime disk: the verdict goes out, the daemon keeps
    running while the next window cannot be written, opens it once space is freed, and a
    SIGTERM then stops it with exit 0."""
    runtime = tmpfs("runtime", size="2m")
    async with HookServer() as srv:
        proc = await start_daemon(runtime, srv, seed_tree, tmp_path, "20h",
                                  "on_end = 'continue'")
        try:
            await until(lambda: (runtime / "status.json").exists(), 30.0)
            first = (runtime / "current_window").read_text().strip()
            filler = fill(runtime)
            await until(lambda: any(orjson.loads(r.body).get("type") == "verdict"
                                    for r in srv.requests), 60.0)
            await asyncio.sleep(1.0)  # a crash would show now
            assert proc.returncode is None
            filler.unlink()
            await until(lambda: (runtime / "current_window").read_text().strip() != first,
                        30.0)
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), 10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()[-3000:]
    assert "Traceback" not in err.decode()
