"""The verdict notification, complete on every channel (SPEC §5): one typed message rendered
by each channel, checked in what the real receiver got — aiosmtpd, a webhook recorder (burnin
and slack formats), a real Alertmanager and the alert log."""

from __future__ import annotations

import asyncio
import email
import os
import sys
import types
from email import policy
from pathlib import Path

import httpx
import orjson
import pytest

from daemon.channels import render
from daemon.channels.base import Message
from daemon.channels.verdict import MalformedVerdictError, VerdictMessage
from daemon.clock import SystemClock
from daemon.records import episodes
from daemon.window.lifecycle import notification
from daemon.window.verdict import decide
from tests.alerts.support import running
from tests.channels.servers import HookServer, until
from tests.channels.smtp import smtp_server
from tests.channels.test_alertmanager import alertmanager, wait_ready
from tests.channels.verdicts import verdict_message

pytestmark = pytest.mark.anyio

FIRED = [{"code": "ledger.drift", "severity": "CRITICAL", "subject": "agent-07",
          "message": "snapshot differs by 3.5", "evidence": {"account": "agent-07"},
          "first_seen": "2026-01-01T00:00:00Z"},
         {"code": "jobs.stale_claim", "severity": "HIGH", "subject": "job-42",
          "message": "claimed 2h ago, no result", "evidence": {"job": "job-42"},
          "first_seen": "2026-01-01T01:00:00Z"}]


def red_verdict(tmp_path) -> VerdictMessage:
    """The message `_end_window` sends for a window in which a CRITICAL and a HIGH fired."""
    window = types.SimpleNamespace(id="w-20260104T000000Z-ab12", finished_at=1767484800.0)
    return notification(window, decide(episodes(FIRED), 1.0, {}),
                        tmp_path / "reports" / window.id)


async def deliver(cfg, verdict: VerdictMessage, log) -> None:
    async with running(cfg, SystemClock(), log) as eng:
        await eng.notify_verdict(verdict)
        assert await eng.drain(10.0)


def assert_complete_text(text: str, verdict: VerdictMessage) -> None:
    assert "RED" in text and "NO-GO" in text and verdict.report in text
    assert "CRITICAL ledger.drift agent-07: snapshot differs by 3.5" in text
    assert '"account":"agent-07"' in text  # the reason's evidence
    assert "HIGH jobs.stale_claim job-42" in text and '"job":"job-42"' in text
    assert "None" not in text


async def test_email_verdict_subject_and_body(tmp_path, make_cfg, log):
    """aiosmtpd receives `[burnin RED] NO-GO: …` with reasons, evidence and report path."""
    verdict = red_verdict(tmp_path)
    with smtp_server(None, starttls=False) as (port, sink):
        cfg = make_cfg({"email": {"host": "127.0.0.1", "port": port, "tls": "none",
                                  "to": ["ops@example.com"], "min_severity": "CRITICAL"}})
        await deliver(cfg, verdict, log)
    mail = email.message_from_bytes(sink.messages[0][0], policy=policy.default)
    subject = " ".join(mail["Subject"].split())  # unfolded
    assert subject == f"[burnin RED] NO-GO: burn-in window {verdict.window_id} — ledger"
    body = mail.get_content()
    assert_complete_text(body, verdict)
    assert "System: ledger   Host: h1" in body and "exit code 2" in body


async def test_burnin_webhook_verdict_document(tmp_path, make_cfg, log):
    """The `burnin` document carries `verdict` (colour), `reasons` with evidence, `report`."""
    verdict = red_verdict(tmp_path)
    async with HookServer() as srv:
        await deliver(make_cfg({"webhook": [{"url": srv.url, "name": "b"}]}), verdict, log)
    doc = orjson.loads(srv.requests[0].body)
    assert (doc["type"], doc["verdict"], doc["label"], doc["exit_code"]) == ("verdict", "RED",
                                                                            "NO-GO", 2)
    assert doc["report"] == verdict.report and doc["window_id"] == verdict.window_id
    assert (doc["system"], doc["host"]) == ("ledger", "h1")
    assert doc["reasons"][0] == {"severity": "CRITICAL", "code": "ledger.drift",
                                 "subject": "agent-07", "message": "snapshot differs by 3.5",
                                 "evidence": {"account": "agent-07"}}
    assert [r["code"] for r in doc["reasons"]] == ["ledger.drift", "jobs.stale_claim"]


async def test_slack_verdict_text(tmp_path, make_cfg, log):
    """Slack text: colour and label in the bold first line, reasons and report below."""
    verdict = red_verdict(tmp_path)
    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "s", "format": "slack"}]})
        await deliver(cfg, verdict, log)
    text = orjson.loads(srv.requests[0].body)["text"]
    assert text.startswith(f"*[burnin RED] NO-GO: burn-in window {verdict.window_id}")
    assert_complete_text(text, verdict)


async def test_alertmanager_verdict_alert(tmp_path, make_cfg, log):
    """Alertmanager lists `burnin.verdict` with a severity label and the report annotation."""
    verdict = red_verdict(tmp_path)
    with alertmanager(tmp_path) as base:
        async with httpx.AsyncClient() as client:
            await wait_ready(client, base)
            cfg = make_cfg({"webhook": [{"url": base, "format": "alertmanager", "name": "am"}]})
            await deliver(cfg, verdict, log)
            alerts = (await client.get(base + "/api/v2/alerts")).json()
    assert len(alerts) == 1
    labels, notes = alerts[0]["labels"], alerts[0]["annotations"]
    assert labels == {"alertname": "burnin.verdict", "severity": "critical", "verdict": "red",
                      "subject": verdict.window_id, "system": "ledger", "instance": "h1"}
    assert notes["report"] == verdict.report
    assert notes["summary"].startswith("[burnin RED] NO-GO")
    assert_complete_text(notes["description"], verdict)


async def test_alert_log_verdict_line(tmp_path, make_cfg, log):
    """logs/alerts.jsonl gets one `burnin.verdict/1` line with the whole message."""
    verdict = red_verdict(tmp_path)
    cfg = make_cfg()
    await deliver(cfg, verdict, log)
    line = orjson.loads((cfg.log_dir / "alerts.jsonl").read_bytes().splitlines()[0])
    assert (line["schema"], line["code"], line["verdict"]) == ("burnin.verdict/1",
                                                              "window.verdict", "RED")
    assert VerdictMessage.from_dict(line).sent_from("", "") == verdict


def test_green_verdict_says_why_it_has_no_reasons():
    """A GREEN verdict renders its colour and label and an explicit 'none' reason line."""
    v = verdict_message("GREEN", reasons=()).sent_from("ledger", "h1")
    msg = Message("m", "verdict", "ledger", 0.0, [], v.to_dict())
    assert render.subject(msg) == "[burnin GREEN] GO: burn-in window w1 — ledger"
    assert "Reasons (0):\n  none: nothing HIGH or CRITICAL fired" in render.body(msg)


@pytest.mark.parametrize("broken", [
    {"type": "x"},  # the old alert-shaped summary had none of the fields
    {"drop": "report"}, {"drop": "reasons"}, {"verdict": "PURPLE"}, {"label": "GO"},
    {"exit_code": 0}, {"reasons": [{"severity": "HIGH"}]}, {"window_id": ""},
])
def test_incomplete_verdict_is_refused_not_rendered(broken):
    """A verdict missing a field fails loudly (the worker keeps it as `failed`), never 'None'."""
    doc = verdict_message().sent_from("ledger", "h1").to_dict()
    if "type" in broken:
        doc = {"code": "window.verdict", "severity": "CRITICAL", "message": "ended RED"}
    elif "drop" in broken:
        del doc[broken["drop"]]
    else:
        doc |= broken
    msg = Message("m", "verdict", "ledger", 0.0, [], doc)
    with pytest.raises(MalformedVerdictError):
        render.subject(msg)


async def test_malformed_verdict_kept_as_failed(make_cfg, log):
    """A stored verdict that cannot be read is kept `failed`; the channel goes on working."""
    from daemon.alerts import store

    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "b"}]})
        async with running(cfg, SystemClock(), log) as eng:
            with store.transaction(eng.db):
                store.enqueue(eng.db, "msg_old", "webhook:b", {"type": "verdict",
                              "summary": {"verdict": "RED"}}, 0.0)
            eng.workers["webhook:b"].wake.set()
            await eng.notify_verdict(verdict_message())
            await until(lambda: eng.pending() == 0)
            failed = store.outbox_rows(eng.db, "failed")
    assert [r["msg_id"] for r in failed] == ["msg_old"]
    assert [orjson.loads(r.body)["verdict"] for r in srv.requests] == ["RED"]


@pytest.mark.slow
async def test_daemon_verdict_complete_on_every_real_receiver(seed_tree, tmp_path):
    """The real daemon ends a 2 h window RED (a torn state file): aiosmtpd, the burnin and
    slack webhooks and a real Alertmanager each get the verdict with its reason and report."""
    (seed_tree / "runtime/system_state.json").write_text('{"state": "RUNN')
    repo = Path(__file__).parents[2]
    with smtp_server(None, starttls=False) as (port, sink), alertmanager(tmp_path) as am:
        async with HookServer() as hook, HookServer() as slack, httpx.AsyncClient() as client:
            await wait_ready(client, am)
            cfg = tmp_path / "burnin.toml"
            cfg.write_text(
                "[checks]\ndisabled = ['host']\n[system]\nname = 'ledger'\n"
                f"[alerts.email]\nhost = '127.0.0.1'\nport = {port}\ntls = 'none'\n"
                "to = ['ops@example.com']\n"
                f"[[alerts.webhook]]\nurl = '{hook.url}'\nname = 'b'\n"
                f"[[alerts.webhook]]\nurl = '{slack.url}'\nname = 's'\nformat = 'slack'\n"
                f"[[alerts.webhook]]\nurl = '{am}'\nname = 'am'\nformat = 'alertmanager'\n")
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "daemon", "run", "--config", str(cfg), "--root",
                str(seed_tree), "--window", "2h", "--time-scale", "3600", cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(repo)},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(proc.communicate(), 90)
            assert proc.returncode == 2, err.decode()[-2000:]
            am_alerts = (await client.get(am + "/api/v2/alerts",
                                          params={"filter": 'alertname="burnin.verdict"'})).json()
    (folder,) = (tmp_path / "runtime/reports").iterdir()
    report = str(folder / "final.md")
    mails = [email.message_from_bytes(m, policy=policy.default) for m, _ in sink.messages]
    (mail,) = [m for m in mails if m["Subject"].startswith("[burnin RED] NO-GO")]
    for text in (mail.get_content(), orjson.loads(slack.requests[-1].body)["text"],
                 am_alerts[0]["annotations"]["description"]):
        assert "RED (NO-GO)" in text and report in text and "CRITICAL state.corrupt" in text
        assert "Evidence: {" in text and "None" not in text
    doc = orjson.loads(hook.requests[-1].body)
    assert (doc["verdict"], doc["report"], doc["system"]) == ("RED", report, "ledger")
    assert "state.corrupt" in [r["code"] for r in doc["reasons"]]
    assert am_alerts[0]["labels"]["severity"] == "critical"
