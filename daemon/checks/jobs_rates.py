"""Rule `jobs_rates` (check `position`): job latency percentiles, failed-notification rate,
queue depth. Figures cover the last hour in the daemon, everything present in one-shot."""

from __future__ import annotations

from daemon.checks import jobs_decide as jd
from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.model import Finding


@register
class JobsRates(Rule):
    name = "jobs_rates"
    check = "position"

    async def run(self, tick: Tick) -> list[Finding]:
        src = self.env.sources.get("jobs")
        await src.ensure_scanned()
        ix, th = src.index, self.env.cfg.thresholds
        ix.prune(tick.now)
        stats = jd.latency_stats(ix.samples.values())
        failed, results = len(ix.failed_times), len(ix.result_times)
        tick.metric("jobs", {**ix.counts(), "latency_ms": stats,
                             "failed_rate": jd.failed_rate(failed, results),
                             "failed_recent": failed, "results_recent": results})
        out = jd.latency_finding(stats, src.patterns["results"].folder or ".",
                                 th.latency_p95_high_ms, th.latency_p95_critical_ms,
                                 th.latency_min_samples)
        return out + jd.failed_finding(failed, results, src.patterns["failed"].folder or ".",
                                       th.failed_notify_high, th.failed_notify_critical)
