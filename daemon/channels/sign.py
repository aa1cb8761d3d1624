"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""

from __future__ import annotations

import base64
import hashlib
import hmac

from daemon.whsec import secret_key as secret_key  # re-exported: defined below config


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str | None, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """`webhook-id` always (receivers drop duplicates); timestamp and signature with a secret."""
    out = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secret:
        out["webhook-signature"] = signature(secret, msg_id, timestamp, body)
    return out


def verify(secret: str, msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    """Receiver side, used by tests: any `v1,` signature in `header` matches."""
    expected = signature(secret, msg_id, int(timestamp), body)
    return any(hmac.compare_digest(expected, s) for s in header.split())
