"""`[heartbeat]`: a file whose mtime must stay fresher than `max_age` (nominal, so scaled)."""

from __future__ import annotations

import os

from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.clock import real
from daemon.model import Finding, finding


def judge(rel: str, mtime: float | None, now: float, max_age_s: float) -> list[Finding]:
    """heartbeat.stale when the file is missing or older than `max_age_s` real seconds."""
    if mtime is None:
        return [finding("heartbeat.stale", rel, f"heartbeat file {rel} does not exist",
                        {"path": rel, "missing": True, "max_age_s": max_age_s})]
    age = now - mtime
    if age <= max_age_s:
        return []
    return [finding("heartbeat.stale", rel, f"heartbeat file {rel} is {age:.1f} s old "
                    f"(max {max_age_s:g} s)",
                    {"path": rel, "age_s": round(age, 3), "max_age_s": max_age_s})]


@register
class HeartbeatRule(Rule):
    """Checks the heartbeat file's age every health tick (nothing when no path is set)."""

    name = "heartbeat"
    check = "health"

    async def run(self, tick: Tick) -> list[Finding]:
        rel = self.env.cfg.heartbeat.path
        if not rel:
            return []
        max_age_s = real(self.env.clock, self.env.cfg.heartbeat.max_age)
        try:
            mtime: float | None = os.stat(self.env.cfg.observed(rel)).st_mtime
        except FileNotFoundError:
            mtime = None
        except OSError as exc:
            return [finding("source.unavailable", rel, f"cannot stat heartbeat file {rel}: "
                            f"{exc.strerror}", {"path": rel, "reason": str(exc)})]
        age = None if mtime is None else round(tick.now - mtime, 3)
        tick.metric("heartbeat", {"age_s": age, "max_age_s": max_age_s})
        return judge(rel, mtime, tick.now, max_age_s)
