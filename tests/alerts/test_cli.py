"""`burnin ack` / `burnin silence` through SQLite while the engine runs."""

from __future__ import annotations

import orjson
import pytest

from daemon.alerts import cli
from daemon.alerts.state import fingerprint
from daemon.clock import FakeClock
from daemon.model import finding
from tests.alerts.support import running
from tests.channels.servers import HookServer, until

pytestmark = pytest.mark.anyio


def down():
    return finding("process.down", "worker", "worker is not running")


FP = fingerprint("process.down", "worker")


async def test_ack_stops_repeats(make_cfg, log, capsys):
    """An acked CRITICAL does not repeat after 30 min; the ack shows in open_alerts."""
    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url}]})
        clock = FakeClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("health", [down()], clock.time())
            await until(lambda: len(srv.requests) == 1)
            assert cli.ack(cfg, FP, None, "on it", clock.time()) == 0
            await eng.tick(clock.time())
            clock.advance(1800)
            await eng.tick(clock.time())
            await until(lambda: eng.pending() == 0)
            assert eng.open_alerts()[0]["acked"] and len(srv.requests) == 1
    assert "acknowledged" in capsys.readouterr().out


async def test_ack_expiry_resumes_repeats(make_cfg, log):
    """An ack `--for 10m` expires and the 30-minute repeat comes back."""
    cfg = make_cfg()
    clock = FakeClock()
    async with running(cfg, clock, log) as eng:
        await eng.observe("health", [down()], clock.time())
        cli.ack(cfg, FP, 600.0, "brief", clock.time())
        await eng.tick(clock.time())
        clock.advance(1800)
        await eng.tick(clock.time())
        await until(lambda: eng.pending() == 0)
    lines = [orjson.loads(x) for x in (cfg.log_dir / "alerts.jsonl").read_bytes().splitlines()]
    assert [x["reason"] for x in lines] == ["first", "repeat"]


def test_ack_unknown_fingerprint(make_cfg, capsys):
    """Acking an unknown fingerprint exits 1 with a message."""
    assert cli.ack(make_cfg(), "0123456789abcdef", None, "", 0.0) == 1
    assert "unknown fingerprint" in capsys.readouterr().out


async def test_silence_records_but_does_not_send(make_cfg, log, capsys):
    """A silenced alert is written to alerts.jsonl marked silenced and not sent elsewhere."""
    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url}]})
        clock = FakeClock()
        assert cli.silence_add(cfg, "process.down", None, 3600.0, "chaos test",
                               clock.time()) == 0
        async with running(cfg, clock, log) as eng:
            await eng.tick(clock.time())
            await eng.observe("health", [down()], clock.time())
            await until(lambda: eng.pending() == 0)
            fired = eng.fired()
        line = orjson.loads((cfg.log_dir / "alerts.jsonl").read_bytes().splitlines()[0])
        assert srv.requests == [] and line["silenced"] is True
        assert fired[0].silenced_before_fire is True
    assert capsys.readouterr().out.startswith("sil_")


def test_silence_list_and_remove(make_cfg, capsys):
    """A silence is listed, then removed by its id."""
    cfg = make_cfg()
    cli.silence_add(cfg, None, "worker", 600.0, "maintenance", 100.0)
    sid = capsys.readouterr().out.strip()
    cli.silence_list(cfg, 100.0)
    listed = capsys.readouterr().out
    assert sid in listed and "maintenance" in listed
    assert cli.silence_remove(cfg, sid) == 0
    cli.silence_list(cfg, 100.0)
    assert "no active silences" in capsys.readouterr().out


def test_silence_needs_a_matcher(make_cfg, capsys):
    """A silence without code or subject is refused."""
    assert cli.silence_add(make_cfg(), None, None, 60.0, "x", 0.0) == 1


def test_silence_duration_is_scaled(make_cfg, capsys):
    """`--for 1h` at time scale 3600 lasts one real second."""
    cfg = make_cfg(scale=3600.0)
    cli.silence_add(cfg, "process.down", None, 3600.0, "x", 100.0)
    capsys.readouterr()
    cli.silence_list(cfg, 100.5)
    assert "process.down" in capsys.readouterr().out
    cli.silence_list(cfg, 101.5)
    assert "no active silences" in capsys.readouterr().out
