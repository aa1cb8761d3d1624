"""Rule `journal_position` (check "position"): the journal's new bytes, every 10 minutes.

Returns the events first seen in the new bytes (corrupt, oversized and invalid lines,
duplicate keys, sequence gaps, non-finite deltas, approval races, orphan decisions) and the
conditions that hold now (negative balances, missing correlation ids, torn tail, snapshot
drift or corruption, source unavailable). Publishes `status.metrics["journal"]`.
The source reports observations; `journal_decide` judges them.
"""

from __future__ import annotations

from daemon.checks import journal_decide
from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.model import Finding


class JournalRule(Rule):
    """A rule that runs one pass (`position` or `integrity`) of the shared journal source."""

    journal_pass = "position"

    async def run(self, tick: Tick) -> list[Finding]:
        source = self.env.sources.get("journal")
        observed = await getattr(source, self.journal_pass)(tick.now)
        tick.metric("journal", observed.metrics)
        return journal_decide.judge(observed, journal_decide.limits(self.env.cfg))

    def save(self) -> None:
        self.env.sources.get("journal").save()


@register
class JournalPosition(JournalRule):
    name = "journal_position"
    check = "position"
    journal_pass = "position"
