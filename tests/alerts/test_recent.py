"""`alerts.recent` of status.json: events and resolved alerts of the window, newest first."""

from __future__ import annotations

import pytest

from daemon.alerts.recent import recent
from daemon.records import Episode, episodes


def rec(code: str, sev: str = "HIGH", kind: str = "condition", status: str = "resolved",
        at: str = "2026-01-13T10:00:00Z", **extra: object) -> Episode:
    ep = Episode.parse(raw(code, sev, kind, status, at, **extra))
    assert ep is not None
    return ep


def raw(code: str, sev: str = "HIGH", kind: str = "condition", status: str = "resolved",
        at: str = "2026-01-13T10:00:00Z", **extra: object) -> dict:
    return {"fingerprint": f"fp-{code}-{at}", "code": code, "severity": sev, "kind": kind,
            "status": status, "subject": "s", "message": "m", "first_seen": at,
            "last_seen": at, "resolved_at": at if status == "resolved" and kind != "event"
            else None, **extra}


@pytest.mark.parametrize(("fired", "codes"), [
    ([], []),
    # an open condition is in alerts.open, not here; an event is always here
    ([rec("a", status="firing"), rec("b", kind="event", status="firing")], ["b"]),
    # resolved conditions and events, newest first
    ([rec("old", at="2026-01-13T09:00:00Z"), rec("new", kind="event",
                                                 at="2026-01-13T11:00:00Z")], ["new", "old"]),
    # garbage entries of a stored history are skipped where it is read
    (episodes([None, "x", raw("ok")]), ["ok"]),
])
def test_recent_table(fired, codes):
    """Which records are recent, in which order."""
    assert [r["code"] for r in recent(fired)] == codes


def test_severe_ones_are_kept_past_the_limit():
    """With more than `limit`, CRITICAL/HIGH stay (RED stays explained), newest first."""
    noise = [rec(f"m{i}", "MEDIUM", at=f"2026-01-13T10:{i:02d}:00Z") for i in range(30)]
    critical = rec("dup", "CRITICAL", "event", "firing", "2026-01-13T08:00:00Z")
    out = recent([critical, *noise], limit=5)
    assert len(out) == 5 and out[-1]["code"] == "dup"
    assert [r["code"] for r in out[:4]] == ["m29", "m28", "m27", "m26"]


def test_records_carry_fingerprint_and_marks():
    """Each record keeps what the views show: fingerprint, acked, silenced."""
    (out,) = recent([rec("x", acked=True, silenced=True, evidence={"big": "x" * 1000})])
    assert out["fingerprint"] == "fp-x-2026-01-13T10:00:00Z"
    assert out["acked"] is True and out["silenced"] is True and "evidence" not in out
