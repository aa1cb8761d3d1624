"""Masking what `burnin config` prints (SPEC §7): URLs that may carry tokens — webhook and
dead-man URLs — show only scheme and host (and port); path, query, fragment and any
user:password are replaced by the mask."""

from __future__ import annotations

from urllib.parse import urlsplit

MASK = "********"


def mask_url(url: str) -> str:
    """`https://hooks.slack.com/services/T0/B0/xyz?token=1` -> `https://hooks.slack.com/********`."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return MASK  # not even parseable: show nothing of it
    if not parts.scheme or not host:
        return MASK
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port is not None else ""
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment or parts.username
    return f"{parts.scheme}://{netloc}/{MASK}" if hidden else f"{parts.scheme}://{netloc}/"
