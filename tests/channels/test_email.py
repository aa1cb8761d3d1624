"""Email delivery against real aiosmtpd servers (trustme certificates) and broken servers."""

from __future__ import annotations

import email
from email import policy

import pytest

from daemon.channels.base import Message
from daemon.channels.email import Email
from daemon.clock import FakeClock
from daemon.config import EmailCfg
from daemon.errors import RetryableDeliveryError
from tests.channels.smtp import PASSWORD, USER, Certs, free_port, raw_server, smtp_server

pytestmark = pytest.mark.anyio


def record(subject="agent-07"):
    return {"schema": "burnin.alert/1", "fingerprint": "f00d", "status": "firing",
            "code": "ledger.drift", "severity": "CRITICAL", "kind": "condition",
            "subject": subject, "message": "drift 3.5", "runbook": "Reconcile.",
            "first_seen": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z",
            "resolved_at": None, "escalated_from": None, "system": "ledger", "host": "h1",
            "window_id": "w1", "evidence": {"account": "agent-07"}, "reason": "first"}


MSG = Message("msg_abc", "alerts", "ledger", 0.0, [record()])


def channel(port, tls="starttls", ca_file="", username="", password=None, timeout=5.0):
    cfg = EmailCfg.model_validate({"host": "127.0.0.1", "port": port, "tls": tls,
                                   "username": username, "to": ["ops@example.com"],
                                   "from": "burnin@example.com", "ca_file": ca_file,
                                   "timeout": timeout})
    cfg._password = password
    return Email(cfg, FakeClock())


async def test_starttls_with_auth_delivers(tmp_path):
    """STARTTLS to a self-signed server (trusted CA file) with auth delivers over TLS."""
    certs = Certs(tmp_path)
    with smtp_server(certs, auth=True) as (port, sink):
        await channel(port, ca_file=str(certs.ca_file), username=USER,
                      password=PASSWORD).send(MSG)
    content, over_tls = sink.messages[0]
    parsed = email.message_from_bytes(content, policy=policy.default)
    assert over_tls
    assert parsed["Subject"] == "[burnin CRITICAL] ledger.drift agent-07 — ledger"
    assert "msg_abc" in parsed["Message-ID"]
    assert "Reconcile." in parsed.get_content()


async def test_implicit_tls_delivers(tmp_path):
    """tls = "implicit" talks TLS from the first byte."""
    certs = Certs(tmp_path)
    with smtp_server(certs, implicit=True) as (port, sink):
        await channel(port, tls="implicit", ca_file=str(certs.ca_file)).send(MSG)
    assert sink.messages[0][1]


async def test_no_starttls_offered_sends_nothing(tmp_path):
    """A server that does not offer STARTTLS gets nothing: no clear-text fallback."""
    with smtp_server(None) as (port, sink), pytest.raises(RetryableDeliveryError):
        await channel(port).send(MSG)
    assert sink.messages == []


async def test_untrusted_certificate_refused(tmp_path):
    """A self-signed certificate not in the CA file is refused; nothing sent."""
    certs = Certs(tmp_path)
    with smtp_server(certs) as (port, sink), pytest.raises(RetryableDeliveryError):
        await channel(port).send(MSG)
    assert sink.messages == []


async def test_refused_auth_is_retryable(tmp_path):
    """A wrong password fails the send (retryable) and nothing is delivered."""
    certs = Certs(tmp_path)
    with smtp_server(certs, auth=True) as (port, sink), pytest.raises(RetryableDeliveryError):
        await channel(port, ca_file=str(certs.ca_file), username=USER,
                      password="wrong").send(MSG)
    assert sink.messages == []


async def test_smtp_down_is_retryable():
    """Connection refused is a retryable failure."""
    with pytest.raises(RetryableDeliveryError):
        await channel(free_port()).send(MSG)


async def test_never_greeting_times_out():
    """A server that accepts and never greets is cut by the deadline."""
    async with raw_server(None) as port:
        with pytest.raises(RetryableDeliveryError, match=r"timed out|Timeout"):
            await channel(port, timeout=0.5).send(MSG)


async def test_dripping_server_times_out():
    """A server dripping its greeting byte by byte cannot outlast the one deadline."""
    async with raw_server(b"220 slow.example ESMTP " * 10, drip_s=0.05) as port:
        with pytest.raises(RetryableDeliveryError):
            await channel(port, timeout=0.5).send(MSG)


async def test_header_injection_stripped(tmp_path):
    """A subject with CR/LF from the tree cannot add headers."""
    certs = Certs(tmp_path)
    msg = Message("msg_x", "alerts", "ledger", 0.0, [record("a\r\nBcc: evil@example.com")])
    with smtp_server(certs) as (port, sink):
        await channel(port, ca_file=str(certs.ca_file)).send(msg)
    parsed = email.message_from_bytes(sink.messages[0][0], policy=policy.default)
    assert parsed["Bcc"] is None


async def test_engine_emails_critical_without_leaking_password(tmp_path, make_cfg, log):
    """Through the engine a CRITICAL is emailed; the SMTP password appears nowhere."""
    from daemon.alerts.engine import AlertEngine
    from daemon.clock import SystemClock
    from daemon.model import finding
    from tests.channels.servers import until

    certs = Certs(tmp_path)
    with smtp_server(certs, auth=True) as (port, sink):
        cfg = make_cfg({"email": {"host": "127.0.0.1", "port": port, "username": USER,
                                  "password_env": "SMTP_PW", "to": ["ops@example.com"],
                                  "ca_file": str(certs.ca_file)}}, env={"SMTP_PW": PASSWORD})
        clock = SystemClock()
        eng = AlertEngine(cfg, clock, log, window_id="w1", host="h1")
        await eng.start()
        await eng.observe("health", [finding("process.down", "worker", "down")], clock.time())
        await until(lambda: sink.messages and eng.pending() == 0)
        await eng.aclose()
    dump = log.text() + (cfg.log_dir / "alerts.jsonl").read_text()
    assert PASSWORD not in dump
    assert PASSWORD.encode() not in (cfg.runtime_dir / "alerts.sqlite3").read_bytes()
