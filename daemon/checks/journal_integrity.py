"""Rule `journal_integrity` (check "integrity"): full replay from byte 0, hourly.

Replays the journal up to the incremental offset in a worker thread and compares it with the
incremental state: a difference is `journal.replay_mismatch`, changed verified bytes are
`journal.rewritten`; the replay then becomes the state. In a one-shot `burnin check` the
position pass already read everything from byte 0, so this rule reports nothing more (or, run
alone with `--only integrity`, does that pass itself and reports its findings).
"""

from __future__ import annotations

from daemon.checks.journal_position import JournalRule
from daemon.checks.registry import register


@register
class JournalIntegrity(JournalRule):
    name = "journal_integrity"
    check = "integrity"
    journal_pass = "integrity"
