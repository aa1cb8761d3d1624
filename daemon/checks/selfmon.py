"""The `daemon_self` rule: burnin's own cost in the `daemon` metrics, `daemon.loop_lag` when
its event loop lagged more than 100 ms since the previous run (the probe is the `selfmon`
source, daemon/sources/selfmon.py)."""

from __future__ import annotations

from daemon.checks.base import Env, Rule, Tick
from daemon.checks.registry import register
from daemon.model import Finding, finding
from daemon.sources.selfmon import SelfMonitor

LAG_LIMIT_MS = 100.0


@register
class DaemonSelfRule(Rule):
    """burnin's own cost in the `daemon` metrics; `daemon.loop_lag` over 100 ms."""

    name = "daemon_self"
    check = "health"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self._since = env.clock.monotonic()

    async def run(self, tick: Tick) -> list[Finding]:
        if self.env.oneshot:
            return []
        monitor: SelfMonitor = self.env.sources.get("selfmon")
        tick.metric("daemon", monitor.snapshot())
        lag = monitor.lag_since(self._since)
        self._since = self.env.clock.monotonic()
        if lag is None or lag * 1000 <= LAG_LIMIT_MS:
            return []
        return [finding("daemon.loop_lag", "event-loop",
                        f"burnin's event loop was blocked for {lag * 1000:.0f} ms",
                        {"lag_ms": round(lag * 1000, 1), "limit_ms": LAG_LIMIT_MS})]
