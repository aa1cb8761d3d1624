"""Retry delays (pure): exponential backoff with jitter, never shorter than `Retry-After`."""

from __future__ import annotations

FAILING_AFTER = 3  # consecutive failed attempts before `daemon.delivery_failing`


def backoff(attempt: int, base_s: float, cap_s: float, jitter: float,
            retry_after_s: float | None = None) -> float:
    """Delay before attempt `attempt + 1`; `jitter` in [0, 1) spreads it over [50 %, 100 %]."""
    raw = min(cap_s, base_s * (2 ** min(attempt, 30)))
    delay = raw * (0.5 + jitter / 2)
    return max(delay, retry_after_s or 0.0)
