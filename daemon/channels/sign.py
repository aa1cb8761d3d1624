"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

_BASE64 = re.compile(r"[A-Za-z0-9+/]+")


def secret_key(secret: str) -> bytes:
    """The HMAC key, read as the Standard Webhooks libraries read it: the secret without its
    optional `whsec_` prefix is base64 (padding optional). Raises `ValueError` for a secret
    that is empty or not base64 (the config refuses it: a receiver could never verify)."""
    text = secret.removeprefix("whsec_").rstrip("=")
    if not text:
        raise ValueError("the secret is empty")
    if not _BASE64.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64: a Standard Webhooks secret is base64, optionally "
                         "prefixed whsec_ (e.g. whsec_ + `openssl rand -base64 32`)")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64: {exc}") from None


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
