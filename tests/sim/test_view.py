"""The live view renders any status.json, partial or malformed, without raising."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from daemon.sim.outcome import Outcome
from daemon.sim.view import faults_table, render

FULL = {"verdict": "RED",
        "window": {"id": "w1", "elapsed_s": 36000, "duration_s": 259200, "phase": "running"},
        "checks": {"health": {"last_run": "2026-01-13T10:00:00Z", "ok": True, "findings": 0},
                   "position": {"last_run": "2026-01-13T10:00:00Z", "ok": False, "findings": 2}},
        "alerts": {"open": [{"code": "ledger.drift", "severity": "CRITICAL", "subject": "agent-1"}],
                   "counts": {"CRITICAL": 1, "HIGH": 0, "MEDIUM": 0, "INFO": 0}}}


def _text(renderable: Any) -> str:
    out = io.StringIO()
    Console(file=out, width=120).print(renderable)
    return out.getvalue()


def test_full_status_shows_window_checks_and_alerts() -> None:
    """Progress in nominal hours, each check's state, each open alert."""
    text = _text(render(FULL))
    assert "10.0 h / 72.0 h" in text and "RED" in text
    assert "health" in text and "FAIL" in text
    assert "ledger.drift" in text and "agent-1" in text and "CRITICAL=1" in text


def test_missing_status_says_waiting() -> None:
    """Before the daemon writes status.json the view says it is waiting."""
    assert "waiting" in _text(render(None))


@pytest.mark.parametrize("status", [
    {}, {"window": None}, {"window": {"elapsed_s": "x", "duration_s": -1}},
    {"checks": [1, 2]}, {"checks": {"health": "broken"}}, {"alerts": {"open": "nope"}},
    {"alerts": {"open": [None, 3, {"severity": 5}]}}, {"window": {"elapsed_s": float("nan")}},
])
def test_malformed_status_renders(status: dict[str, Any]) -> None:
    """Missing keys and wrong types render as placeholders."""
    assert "window" in _text(render(status))


def test_many_alerts_are_truncated() -> None:
    """Only the first alerts are listed, with a count of the rest."""
    status = {"alerts": {"open": [{"code": f"c{i}", "severity": "HIGH"} for i in range(40)]}}
    assert "25 more" in _text(render(status))


def test_faults_table_marks_caught_late_and_missed() -> None:
    """Each expectation row says yes, late or NO."""
    rows = [Outcome("a", "x.y", "CRITICAL", 0.0, 1.0, 5.0),
            Outcome("b", "x.y", "CRITICAL", 0.0, 9.0, 5.0),
            Outcome("c", "x.y", "CRITICAL", 0.0, None, 5.0)]
    text = _text(faults_table(rows))
    assert "yes" in text and "late" in text and "NO" in text


def test_recent_events_fingerprints_and_marks() -> None:
    """RED with 0 open alerts shows the event that made it RED, with fingerprints and marks."""
    status = {**FULL, "alerts": {
        "open": [{"code": "jobs.stale_claim", "severity": "HIGH", "subject": "j1",
                  "fingerprint": "0123456789abcdef", "acked": True}],
        "counts": {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 0, "INFO": 0},
        "recent": [{"code": "journal.corrupt_line", "severity": "CRITICAL", "kind": "event",
                    "subject": "credits.jsonl:12", "fingerprint": "aa11bb22cc33dd44",
                    "silenced": True}]}}
    lines = _text(render(status)).splitlines()
    assert "ACKED" in next(ln for ln in lines if "0123456789abcdef" in ln)
    event = next(ln for ln in lines if "journal.corrupt_line" in ln and "aa11" in ln)
    assert any("RED because: CRITICAL journal.corrupt_line" in ln for ln in lines)
    assert "aa11bb22cc33dd44" in event and "SILENCED" in event and "event" in event
