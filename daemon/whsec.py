"""The key of a Standard Webhooks secret (`whsec_` + base64), checked by the config and used by
the signer (`daemon.channels.sign` re-exports `secret_key`)."""

from __future__ import annotations

import base64
import binascii
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
