"""Verdict messages for channel tests: a RED one with two reasons, or any colour."""

from __future__ import annotations

from daemon.channels.verdict import COLORS, Reason, VerdictMessage

DRIFT = Reason("CRITICAL", "ledger.drift", "agent-07", "snapshot differs by 3.5",
               {"account": "agent-07", "difference": "3.5"})
STALE = Reason("HIGH", "jobs.stale_claim", "job-42", "claimed 2h ago, no result",
               {"job": "job-42", "age_s": 7200})


def verdict_message(color: str = "RED", reasons: tuple[Reason, ...] = (DRIFT, STALE),
                    window_id: str = "w1") -> VerdictMessage:
    label, code, _ = COLORS[color]
    return VerdictMessage(color, label, code, window_id, "", "", 0.9995,
                          "2026-01-04T00:00:00.000Z", reasons,
                          f"/var/lib/burnin/reports/{window_id}/final.md")
