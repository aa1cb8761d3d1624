"""Health rule `daemon_log`: burnin's own log file still takes lines (SPEC §5).

The log sink never raises (a full or read-only log folder must not stop the daemon); it counts
and keeps back what it could not write. This rule retries those lines every health run,
publishes the counters under `metrics.daemon` in status.json, and raises
`daemon.runtime_unwritable` for the log folder while writes fail.
"""

from __future__ import annotations

from typing import Any

from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.model import Finding, finding


def judge_log_sink(folder: str, health: dict[str, Any] | None) -> list[Finding]:
    """`daemon.runtime_unwritable` while the sink's last write failed (pure)."""
    if health is None or health["log_error"] is None:
        return []
    return [finding("daemon.runtime_unwritable", folder,
                    f"cannot write burnin's log: {health['log_error']}",
                    {"error": health["log_error"], "failures": health["log_write_failures"],
                     "pending": health["log_lines_pending"],
                     "dropped": health["log_lines_dropped"]})]


@register
class DaemonLogRule(Rule):
    name = "daemon_log"
    check = "health"

    async def run(self, tick: Tick) -> list[Finding]:
        if self.env.oneshot:
            return []
        from daemon import logsetup  # structlog: not loaded by a one-shot check

        health = logsetup.sink_health()
        if health is not None:
            tick.metric("daemon", {k: v for k, v in health.items() if k != "log_error"})
        return judge_log_sink(str(self.env.cfg.log_dir), health)
