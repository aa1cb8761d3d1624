"""The one colour rule of SPEC §5 (`daemon.model.color_of`), and both of its users agreeing."""

from __future__ import annotations

import pytest

from daemon.model import Severity, color_of, finding, verdict_of
from daemon.window.verdict import Listed
from daemon.window.verdict import color_of as window_color_of

CODES = {Severity.CRITICAL: "journal.corrupt_line", Severity.HIGH: "jobs.stale_claim",
         Severity.MEDIUM: "jobs.pending_too_long", Severity.INFO: "jobs.pending_too_long"}


@pytest.mark.parametrize(
    ("top", "color"),
    [(Severity.INFO, "GREEN"), (Severity.MEDIUM, "GREEN"), (Severity.HIGH, "YELLOW"),
     (Severity.CRITICAL, "RED")],
)
def test_color_of_worst_tier(top, color):
    """CRITICAL is RED, HIGH YELLOW, MEDIUM and INFO GREEN."""
    assert color_of(top) == color


TIERS = [(), (Severity.INFO,), (Severity.MEDIUM,), (Severity.HIGH,), (Severity.CRITICAL,),
         (Severity.MEDIUM, Severity.HIGH), (Severity.HIGH, Severity.CRITICAL),
         (Severity.INFO, Severity.MEDIUM, Severity.CRITICAL)]


@pytest.mark.parametrize("tiers", TIERS)
def test_check_and_window_agree(tiers):
    """`burnin check` (findings) and the window (reasons) give the same colour for the same
    tiers: one rule, two callers."""
    found = [finding(CODES[t], f"s{i}", "m", severity=t) for i, t in enumerate(tiers)]
    reasons = [Listed(severity=t.name, code="c", subject="s", message="m") for t in tiers]
    top = max(tiers, default=Severity.INFO)
    assert verdict_of(found) == window_color_of(reasons) == color_of(top)
