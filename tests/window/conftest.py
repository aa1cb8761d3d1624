"""Builders for the window tests: alert records (AlertEngine.fired() shape), status docs."""

from __future__ import annotations

from typing import Any

import pytest

from daemon.clock import FakeClock, iso
from daemon.records import Episode, Figures

START = 1_800_000_000.0


def make_alert(code: str = "jobs.stale_claim", severity: str = "HIGH", **over: Any) -> Episode:
    """One episode as AlertEngine.fired() returns it."""
    alert = {
        "fingerprint": f"{code}|{over.get('subject', 's')}", "status": "firing", "code": code,
        "severity": severity, "kind": "condition", "subject": "s", "message": f"{code} fired",
        "runbook": "look", "first_seen": iso(START), "last_seen": iso(START),
        "resolved_at": None, "escalated_from": None, "evidence": {"n": 1},
        "silenced": False, "silenced_before_fire": False, "acked": False,
    }
    alert.update(over)
    episode = Episode.parse(alert)
    assert episode is not None
    return episode


def make_status(i: int = 0, **jobs: Any) -> dict[str, Any]:
    """A healthy status.json document (the parts the window reads)."""
    return {
        "daemon": {"rss_bytes": 40_000_000, "cpu_percent": 1.0},
        "metrics": {
            "host": {"cpu_percent": 10.0 + i % 5, "memory_percent": 40.0, "disks": {"/": 50}},
            "processes": {"worker": {"pid": 7, "up": True, "rss_bytes": 50_000_000 + i * 1000,
                                     "cpu_percent": 1.0, "rss_slope_mb_min": 0.01,
                                     "restarts": 0}},
            "jobs": {"pending": i % 4, "claimed": 1, "done": 3 * i, "failed": 0,
                     "latency_ms": {"p50": 40, "p95": 120, "p99": 300, "count": 50},
                     "failed_rate": 0.0, **jobs},
            "locks": {"timeouts": 0, "transitions": 100, "rate": 0.0},
        },
        "alerts": {"open": [], "counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "INFO": 0}},
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=START, scale=864.0)


@pytest.fixture
def alert():
    """The `make_alert` builder."""
    return make_alert


@pytest.fixture
def status():
    """The `make_status` builder."""
    return make_status


def drive(runner: Any, clock: FakeClock, fired: list[Episode] | None = None,
          until: float | None = None) -> Any:
    """Tick `runner` once per nominal minute (a health run each) until the end or `until`."""
    step = 60 / clock.scale
    i = 0
    while not runner.should_end(clock.time()) and (until is None or clock.time() < until):
        clock.advance(step)
        i += 1
        runner.record_run("health", clock.time(), True)
        runner.on_tick(clock.time(), Figures.parse(make_status(i)), fired)
    return i


@pytest.fixture
def tick():
    """The `drive` helper."""
    return drive
