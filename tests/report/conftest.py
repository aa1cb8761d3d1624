"""A finished 2 h window (time scale 864) with an alert whose job id is a script tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.clock import FakeClock, iso
from daemon.records import Figures, episodes
from daemon.window.lifecycle import WindowRunner

START = 1_800_000_000.0
XSS = "<script>alert(1)</script>"


def status(i: int) -> dict:
    return {
        "daemon": {"rss_bytes": 40_000_000 + i * 2000, "cpu_percent": 1.0 + i % 3},
        "metrics": {
            "host": {"cpu_percent": 10.0 + i % 7, "memory_percent": 40.0},
            "processes": {"worker": {"rss_bytes": 50_000_000 + i * 5000, "cpu_percent": 1.5,
                                     "rss_slope_mb_min": 0.01}},
            "jobs": {"pending": i % 5, "claimed": 1, "done": 3 * i, "failed": 0,
                     "latency_ms": {"p50": 40, "p95": 120 + i % 30, "p99": 300},
                     "failed_rate": 0.0},
            "locks": {"rate": 0.001},
        },
        "alerts": {"open": [], "counts": {"CRITICAL": 0, "HIGH": 1 if 30 < i < 50 else 0,
                                          "MEDIUM": 0, "INFO": 0}},
    }


def xss_alert() -> dict:
    return {
        "fingerprint": f"jobs.stale_claim|{XSS}", "status": "resolved",
        "code": "jobs.stale_claim", "severity": "HIGH", "kind": "condition", "subject": XSS,
        "message": f"job {XSS} claimed for 6m", "runbook": "restart the worker",
        "first_seen": iso(START + 2), "last_seen": iso(START + 3), "resolved_at": iso(START + 3),
        "escalated_from": None, "evidence": {"job_id": XSS}, "silenced": False,
        "silenced_before_fire": False, "acked": False,
    }


def run_window(runtime: Path, alerts: list[dict], end: bool = True) -> WindowRunner:
    fired = episodes(alerts)
    clock = FakeClock(start=START, scale=864.0)
    runner = WindowRunner(runtime, clock, 7200.0, 864.0, 1800.0)
    runner.start()
    i = 0
    while not runner.should_end(clock.time()) and (end or i < 40):
        clock.advance(60 / 864)
        i += 1
        runner.record_run("health", clock.time(), True)
        runner.on_tick(clock.time(), Figures.parse(status(i)), fired)
    if end:
        runner.finish(clock.time(), fired, Figures.parse(status(i)))
    return runner


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    """The report folder of a finished YELLOW window with the script-tag job id."""
    runner = run_window(tmp_path, [xss_alert()])
    return tmp_path / "reports" / runner.window.id


@pytest.fixture
def running(tmp_path: Path) -> WindowRunner:
    """A window 40 nominal minutes in (one spot report written), not finished."""
    return run_window(tmp_path, [xss_alert()], end=False)
