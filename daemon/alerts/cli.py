"""`burnin ack` / `burnin silence` (placeholder until the full alert store lands)."""

from __future__ import annotations

import sys

from daemon.config import Config


def _unsupported() -> int:
    print("burnin: acknowledgements and silences need the alert store", file=sys.stderr)
    return 1


def ack(cfg: Config, fingerprint: str, for_s: float | None, reason: str, now: float) -> int:
    return _unsupported()


def silence_add(cfg: Config, code: str | None, subject: str | None, for_s: float, reason: str,
                now: float) -> int:
    return _unsupported()


def silence_list(cfg: Config, now: float) -> int:
    return _unsupported()


def silence_remove(cfg: Config, silence_id: str) -> int:
    return _unsupported()
