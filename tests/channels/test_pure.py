"""Signatures, formats, text rendering and response classification."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from daemon.channels import formats, render, sign
from daemon.channels.base import Message, one_line
from daemon.channels.webhook import classify, parse_retry_after
from daemon.errors import PermanentDeliveryError, RetryableDeliveryError


def record(**kw):
    base = {"schema": "burnin.alert/1", "fingerprint": "abc123", "status": "firing",
            "code": "ledger.drift", "severity": "CRITICAL", "kind": "condition",
            "subject": "agent-07", "message": "drift 3.5", "runbook": "Look at it.",
            "first_seen": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z",
            "resolved_at": None, "escalated_from": None, "system": "ledger", "host": "h1",
            "window_id": "w1", "evidence": {"account": "agent-07"}, "reason": "first"}
    return base | kw


def msg(*records):
    return Message("msg_1", "alerts", "ledger", 0.0, list(records))


def test_whsec_secret_is_base64_key():
    """A `whsec_` secret signs with its base64-decoded bytes (Standard Webhooks)."""
    key = b"0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    mac = hmac.new(key, b"msg_1.1700000000.{}", hashlib.sha256).digest()
    assert sign.signature(secret, "msg_1", 1700000000, b"{}") == "v1," + base64.b64encode(
        mac).decode()


def test_secret_without_prefix_is_base64_too():
    """`whsec_` is optional: with or without it (and without padding) the key is the same."""
    key = b"0123456789abcdef0"
    b64 = base64.b64encode(key).decode()
    assert {sign.secret_key(s) for s in (b64, "whsec_" + b64, b64.rstrip("="))} == {key}
    h = sign.headers(b64, "msg_1", 5, b"body")
    assert sign.verify("whsec_" + b64, "msg_1", "5", b"body", h["webhook-signature"])


@pytest.mark.parametrize("secret", ["s3cr3t-value", "whsec_not base64!", "", "whsec_",
                                    "whsec_abcde", "dGVzdA==dGVzdA", "whsec_a_b-c"])
def test_secret_that_is_not_base64_is_refused(secret):
    """Not base64 (or empty): refused, never silently used as raw bytes."""
    with pytest.raises(ValueError):
        sign.secret_key(secret)


def test_no_secret_no_signature():
    """Without a secret there is an id but no signature header."""
    assert "webhook-signature" not in sign.headers(None, "m", 1, b"")


def test_email_subject_format():
    """Subject reads `[burnin CRITICAL] ledger.drift agent-07 — ledger`."""
    assert render.subject(msg(record())) == "[burnin CRITICAL] ledger.drift agent-07 — ledger"


def test_subject_strips_header_injection():
    """CR/LF from a subject in the observed tree never reaches an email header."""
    s = render.subject(msg(record(subject="x\r\nBcc: evil@example.com")))
    assert "\r" not in s and "\n" not in s


def test_body_has_message_evidence_runbook():
    """The body shows message, evidence and runbook."""
    body = render.body(msg(record()))
    assert "drift 3.5" in body and '"account": "agent-07"' in body and "Look at it." in body


def test_body_bounded_for_large_groups():
    """A group of 1,000 renders 20 records and counts the rest."""
    body = render.body(msg(*[record(subject=str(i)) for i in range(1000)]))
    assert "980 more" in body and body.count("Runbook:") == 20


def test_alertmanager_format_fields():
    """Alertmanager alerts carry the labels and annotations the issue lists."""
    am = formats.alertmanager(msg(record()), 0.0)[0]
    assert set(am["labels"]) == {"alertname", "severity", "subject", "system", "instance"}
    assert set(am["annotations"]) == {"summary", "description", "runbook"}
    assert {"startsAt", "endsAt", "generatorURL"} <= set(am)


def test_resolved_alertmanager_ends_at_resolution():
    """A resolved alert's endsAt is its resolved_at."""
    r = record(status="resolved", resolved_at="2026-01-01T01:00:00.000Z")
    assert formats.alertmanager(msg(r), 0.0)[0]["endsAt"] == r["resolved_at"]


def test_slack_escapes_markup():
    """Slack text escapes <, > and & from the tree."""
    text = formats.slack(msg(record(subject="<!channel>")), 0.0)["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_one_line_removes_controls():
    """one_line flattens control characters."""
    assert one_line("a\nb\x00c") == "a b c"


@pytest.mark.parametrize(("status", "error"), [
    (200, None), (204, None), (500, RetryableDeliveryError), (503, RetryableDeliveryError),
    (429, RetryableDeliveryError), (400, PermanentDeliveryError),
    (404, PermanentDeliveryError), (302, PermanentDeliveryError),
])
def test_classify_status(status, error):
    """2xx ok; 5xx/429 retryable; other 4xx and redirects permanent."""
    if error is None:
        classify("w", status, None, 0.0)
    else:
        with pytest.raises(error):
            classify("w", status, None, 0.0)


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0), ("Thu, 01 Jan 1970 00:01:40 GMT", 100.0), ("garbage", None), (None, None),
    ("-5", 0.0), ("inf", None),
])
def test_retry_after_parsing(value, seconds):
    """Retry-After as seconds or HTTP date; garbage is ignored."""
    assert parse_retry_after(value, 0.0) == seconds
