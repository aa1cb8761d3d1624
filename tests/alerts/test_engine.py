"""The alert engine end to end: decide, outbox, real webhook server, alert log."""

from __future__ import annotations

import orjson
import pytest

from daemon.alerts.state import fingerprint
from daemon.channels import sign
from daemon.clock import FakeClock, SystemClock
from daemon.model import finding
from tests.alerts.support import running
from tests.channels.servers import HookServer, Reply, until
from tests.channels.verdicts import verdict_message

pytestmark = pytest.mark.anyio


def alert_lines(cfg):
    path = cfg.log_dir / "alerts.jsonl"
    return [orjson.loads(x) for x in path.read_bytes().splitlines()] if path.exists() else []


def hook(url, **kw):
    return {"webhook": [{"url": url, "name": "ops", **kw}]}


def stale(subject="a.claimed"):
    return finding("jobs.stale_claim", subject, "claim is stale", {"job_id": subject})


async def test_first_alert_reaches_log_and_webhook(make_cfg, log):
    """A new finding is written to alerts.jsonl and POSTed to the webhook, same id."""
    async with HookServer() as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: srv.requests and alert_lines(cfg) and eng.pending() == 0)
        body = orjson.loads(srv.requests[0].body)
        line = alert_lines(cfg)[0]
        assert body["schema"] == "burnin.notification/1"
        assert body["alerts"][0]["fingerprint"] == fingerprint("jobs.stale_claim", "a.claimed")
        assert line["reason"] == "first" and line["system"] == "ledger"
        assert srv.requests[0].headers["webhook-id"] == line["notification_id"]


async def test_signed_webhook_verifies(make_cfg, log):
    """With a whsec_ secret the receiver verifies the Standard Webhooks signature."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    async with HookServer() as srv:
        cfg = make_cfg(hook(srv.url, secret_env="HOOK_SECRET"), env={"HOOK_SECRET": secret})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: srv.requests)
        req = srv.requests[0]
        h = req.headers
        assert sign.verify(secret, h["webhook-id"], h["webhook-timestamp"], req.body,
                           h["webhook-signature"])


async def test_resolved_is_sent_once(make_cfg, log):
    """A condition that disappears sends one resolved notification."""
    async with HookServer() as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await eng.observe("jobs", [], clock.time())
            await eng.observe("jobs", [], clock.time())
            await until(lambda: len(srv.requests) >= 2 and eng.pending() == 0)
        statuses = [orjson.loads(r.body)["alerts"][0]["status"] for r in srv.requests]
        assert statuses == ["firing", "resolved"]


async def test_500_then_200_is_retried(make_cfg, log):
    """A 500 is retried with backoff and the same webhook-id, then delivered."""
    async with HookServer(Reply(500), Reply(500)) as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: len(srv.requests) == 3 and eng.pending() == 0)
        assert len({r.headers["webhook-id"] for r in srv.requests}) == 1


async def test_retry_after_is_honoured(make_cfg, log):
    """After a 503 with Retry-After: 120 nothing is resent before 120 s have passed."""
    async with HookServer(Reply(503, {"Retry-After": "120"})) as srv:
        cfg = make_cfg(hook(srv.url))
        clock = FakeClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: len(srv.requests) == 1 and eng.workers["webhook:ops"].failures)
            clock.advance(119)
            await until(lambda: True)
            assert len(srv.requests) == 1
            clock.advance(1)
            await until(lambda: len(srv.requests) == 2 and eng.pending() == 0)


async def test_400_is_permanent_and_kept(make_cfg, log):
    """A 400 is not retried; the message stays in the outbox as failed for inspection."""
    from daemon.alerts import store

    async with HookServer(Reply(400)) as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: store.outbox_rows(eng.db, "failed") and eng.pending() == 0)
            assert len(srv.requests) == 1


async def test_redirect_not_followed(make_cfg, log):
    """A 302 is a permanent failure; the Location is never requested."""
    from daemon.alerts import store

    async with HookServer(Reply(302, {"Location": "http://127.0.0.1:9/x"})) as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: store.outbox_rows(eng.db, "failed"))
        assert len(srv.requests) == 1


async def test_410_disables_endpoint_with_alert(make_cfg, log):
    """A 410 disables that webhook and raises daemon.endpoint_disabled via the alert log."""
    async with HookServer(Reply(410)) as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: any(r["code"] == "daemon.endpoint_disabled"
                                    for r in alert_lines(cfg)))
            await eng.observe("jobs", [stale("b.claimed")], clock.time())
            await until(lambda: eng.pending() == 0)
            codes = [a["code"] for a in eng.open_alerts()]
        assert len(srv.requests) == 1 and "daemon.endpoint_disabled" in codes


async def test_three_failures_raise_delivery_failing(make_cfg, log):
    """A channel failing 3 times opens daemon.delivery_failing; success resolves it."""
    async with HookServer(Reply(500), Reply(500), Reply(500)) as srv:
        cfg = make_cfg(hook(srv.url))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: any(r["code"] == "daemon.delivery_failing"
                                    for r in alert_lines(cfg)))
            await until(lambda: eng.pending() == 0)
            reasons = [(r["code"], r["reason"]) for r in alert_lines(cfg)]
        assert ("daemon.delivery_failing", "resolved") in reasons


async def test_slow_drip_response_times_out(make_cfg, log):
    """A receiver dripping its response is cut by the timeout and retried."""
    async with HookServer(Reply(200, drip_s=0.1)) as srv:
        cfg = make_cfg(hook(srv.url, timeout="300ms"))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: len(srv.requests) == 2 and eng.pending() == 0)
        assert any(e == "alert.delivery_failed" and "timed out" in kw["error"]
                   for _, e, kw in log.lines)


async def test_thousand_findings_grouped(make_cfg, log):
    """1,000 findings at once: one webhook request, 1,000 alert log lines (storm bound raised:
    grouping is under test here; tests/degrade/test_storm.py covers the bound)."""
    async with HookServer() as srv:
        cfg = make_cfg(hook(srv.url) | {"max_subjects_per_code": 1000})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale(f"j{i}") for i in range(1000)], clock.time())
            await until(lambda: eng.pending() == 0)
        assert len(srv.requests) == 1 and len(orjson.loads(srv.requests[0].body)["alerts"]) == 1000
        assert len(alert_lines(cfg)) == 1000


async def test_medium_waits_for_group_wait(make_cfg, log):
    """MEDIUM alerts of one code are sent as one digest after group_wait."""
    async with HookServer() as srv:
        cfg = make_cfg(hook(srv.url, min_severity="MEDIUM") | {"group_wait": "30s"})
        clock = FakeClock()
        async with running(cfg, clock, log) as eng:
            pend = [finding("jobs.pending_too_long", f"j{i}", "pending") for i in range(3)]
            await eng.observe("jobs", pend, clock.time())
            await eng.tick(clock.time())
            assert eng.pending() == 0 and srv.requests == []
            clock.advance(30)
            await eng.tick(clock.time())
            await until(lambda: srv.requests and eng.pending() == 0)
        assert len(orjson.loads(srv.requests[0].body)["alerts"]) == 3


async def test_min_severity_filters_channel(make_cfg, log):
    """A MEDIUM alert reaches the alert log but not a webhook with min_severity HIGH."""
    async with HookServer() as srv:
        cfg = make_cfg(hook(srv.url) | {"group_wait": "0s"})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [finding("jobs.pending_too_long", "j", "p")], clock.time())
            await eng.tick(clock.time())
            await until(lambda: alert_lines(cfg) and eng.pending() == 0)
        assert srv.requests == []


async def test_open_alerts_and_counts(make_cfg, log):
    """open_alerts is sorted worst first; counts per tier."""
    cfg = make_cfg()
    clock = FakeClock()
    async with running(cfg, clock, log) as eng:
        await eng.observe("jobs", [stale(), finding("process.down", "w", "down")], clock.time())
        opened = eng.open_alerts()
        counts = eng.counts()
    assert [a["code"] for a in opened] == ["process.down", "jobs.stale_claim"]
    assert counts == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 0, "INFO": 0}


async def test_fired_lists_window_history(make_cfg, log):
    """fired() keeps resolved and escalated alerts of the window."""
    cfg = make_cfg()
    clock = FakeClock()
    async with running(cfg, clock, log) as eng:
        await eng.observe("jobs", [stale()], clock.time())
        clock.advance(3600)
        await eng.tick(clock.time())
        await eng.observe("jobs", [], clock.time())
        fired = eng.fired()
    assert len(fired) == 1 and fired[0].escalated_from == "HIGH"
    assert fired[0].resolved_at is not None and fired[0].notified_at is not None


async def test_verdict_goes_to_every_channel(make_cfg, log):
    """notify_verdict reaches the alert log and every webhook, whatever min_severity."""
    async with HookServer() as srv:
        cfg = make_cfg(hook(srv.url, min_severity="CRITICAL"))
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.notify_verdict(verdict_message("GREEN", reasons=()))
            assert await eng.drain(10.0)
        assert orjson.loads(srv.requests[0].body)["verdict"] == "GREEN"
        assert alert_lines(cfg)[0]["schema"] == "burnin.verdict/1"


async def test_deadman_pings(make_cfg, log):
    """With [alerts.deadman] the engine pings the URL on tick, then every interval."""
    async with HookServer() as srv:
        cfg = make_cfg({"deadman": {"url": srv.url, "interval": "5m"}})
        clock = FakeClock()
        async with running(cfg, clock, log) as eng:
            await eng.tick(clock.time())
            await until(lambda: eng.deadman.pings == 1)
            clock.advance(100)
            await eng.tick(clock.time())
            clock.advance(200)
            await eng.tick(clock.time())
            await until(lambda: len(srv.requests) == 2)
        assert srv.requests[0].method == "GET"


async def test_pending_survives_restart(make_cfg, log):
    """A message decided while the receiver is down is sent after a restart, same id."""
    async with HookServer(Reply(503)) as srv:
        cfg = make_cfg(hook(srv.url) | {"retry_base": "10s"})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: len(srv.requests) == 1)
        cfg2 = make_cfg(hook(srv.url))
        async with running(cfg2, FakeClock(start=clock.time() + 60), log) as eng2:
            await until(lambda: eng2.pending() == 0)
        ids = [r.headers["webhook-id"] for r in srv.requests]
        assert len(ids) == 2 and ids[0] == ids[1]


async def test_secret_never_leaks(make_cfg, log):
    """The webhook secret appears in no log line, alert line, status record or outbox error."""
    from daemon.alerts import store

    secret = "whsec_SUPERSECRET1234567890ABC"
    async with HookServer(Reply(500), Reply(500), Reply(500)) as srv:
        cfg = make_cfg(hook(srv.url, secret_env="S"), env={"S": secret})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            await eng.observe("jobs", [stale()], clock.time())
            await until(lambda: eng.pending() == 0)
            status = orjson.dumps(eng.open_alerts()) + orjson.dumps(eng.fired())
            rows = repr(store.outbox_rows(eng.db))
        text = log.text() + status.decode() + rows + (cfg.log_dir / "alerts.jsonl").read_text()
        assert secret not in text
        assert secret.encode() not in (cfg.runtime_dir / "alerts.sqlite3").read_bytes()


async def test_new_window_carries_open_alerts(make_cfg, log):
    """After set_window, fired() of the new window lists alerts still firing, not resolved ones."""
    cfg = make_cfg()
    clock = FakeClock()
    async with running(cfg, clock, log) as eng:
        await eng.observe("jobs", [stale("a"), stale("b")], clock.time())
        await eng.observe("jobs", [stale("a")], clock.time())
        eng.set_window("w2")
        fired = eng.fired()
    assert [(f.subject, f.window_id) for f in fired] == [("a", "w2")]


async def test_a_blip_after_a_resolved_alert_is_no_new_episode(make_cfg, log):
    """A sampled condition seen once after it fired and resolved adds nothing to fired()."""
    from daemon.alerts.engine import AlertEngine

    clock = FakeClock()
    cfg = make_cfg()
    engine = AlertEngine(cfg, clock, log, window_id="w", host="h")
    await engine.start()
    try:
        cpu = finding("host.cpu_high", "host", "cpu 90 %")
        for found in ([cpu], [cpu], [], [cpu], []):  # fired (2 runs), resolved, one blip
            await engine.observe("host", found, clock.time())
            clock.advance(60)
        assert len(engine.fired()) == 1
    finally:
        await engine.aclose()
