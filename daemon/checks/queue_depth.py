"""Position rule `queue_depth` (placeholder until the job-folder index lands): count files."""

from __future__ import annotations

import glob

from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.model import Finding


@register
class QueueDepthRule(Rule):
    name = "queue_depth"
    check = "position"

    async def run(self, tick: Tick) -> list[Finding]:
        jobs = self.env.cfg.jobs
        counts = {
            key: len(glob.glob(str(self.env.cfg.observed(pattern))))
            for key, pattern in (("pending", jobs.pending), ("claimed", jobs.claims),
                                 ("done", jobs.results), ("failed", jobs.failed))
        }
        tick.metric("jobs", counts)
        return []
