"""`--faults none`: the tree stays clean by every invariant burnin checks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from daemon.sim.layout import Tree
from daemon.sim.verify import audit

from .driver import Driver

TWELVE_HOURS_REAL = 12 * 3600 / 864  # 50 real seconds at the demo scale


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_run_has_no_problem(make_system: Callable[..., Driver], seed: int) -> None:
    """Twelve nominal hours without faults leave nothing for burnin to report."""
    driver = make_system(faults="none", seed=seed)
    driver.run(TWELVE_HOURS_REAL)
    report = audit(driver.system.tree)
    assert report.problems == []


def test_clean_run_has_load_and_transitions(make_system: Callable[..., Driver]) -> None:
    """The clean run really works: 10-20 jobs per nominal hour, events, transitions."""
    driver = make_system(faults="none")
    driver.run(TWELVE_HOURS_REAL)
    report = audit(driver.system.tree)
    assert 100 <= report.results <= 250
    assert report.events >= report.results
    assert report.transitions >= 20 and report.lock_timeouts == 0


def test_clean_run_latency_is_a_tick(make_system: Callable[..., Driver]) -> None:
    """Jobs are processed on the next tick: latency stays in real milliseconds."""
    driver = make_system(faults="none")
    driver.run(5.0)
    assert 0 < audit(driver.system.tree).p95_ms() <= 100


def test_every_job_is_claimed_by_rename_and_released(make_system: Callable[..., Driver]) -> None:
    """After processing, no job or claim file is left and each job has one result."""
    driver = make_system(faults="none")
    driver.run(10.0)
    tree: Tree = driver.system.tree
    results = len(list(tree.inbox.glob("*.result.json")))
    waiting = len(list(tree.outbox.glob("*.job.json")))
    assert not list(tree.outbox.glob("*.claimed"))
    assert results + waiting == driver.system.producer.count and waiting <= 1


def test_snapshot_equals_replay(make_system: Callable[..., Driver]) -> None:
    """The published snapshot is the replay of exactly event_count events."""
    driver = make_system(faults="none")
    driver.run(10.0)
    snap = driver.system.ledger.snapshot()
    assert snap["event_count"] == audit(driver.system.tree).events


def test_load_mode_submits_jobs_per_real_second(make_system: Callable[..., Driver]) -> None:
    """--jobs-per-second 100 submits about 100 jobs per real second."""
    driver = make_system(faults="none", jobs_per_second=100.0)
    driver.run(2.0, step_s=0.02)
    assert 190 <= driver.system.producer.count <= 210
    assert audit(driver.system.tree).problems == []


def test_ledger_events_carry_keys_and_correlation(make_system: Callable[..., Driver]) -> None:
    """Every journal event has an idempotency key, a correlation id and a timestamp."""
    from daemon.sim.files import json_objects

    driver = make_system(faults="none")
    driver.run(5.0)
    events = list(json_objects(driver.system.tree.journal))
    assert events and all(e["idempotency_key"] and e["correlation_id"] and
                          e["timestamp"].endswith("Z") for e in events)
    types = {e["event_type"] for e in events}
    assert {"credit.granted", "credit.consumed"} <= types


def test_garbage_job_file_gets_an_error_result(make_system: Callable[..., Driver]) -> None:
    """A job file that is not JSON is claimed and answered with status error, no crash."""
    from daemon.sim.files import read_json

    driver = make_system(faults="none")
    driver.run(0.1)
    (driver.system.tree.outbox / "junk.job.json").write_bytes(b"\x00not json")
    driver.run(0.2)
    result = read_json(driver.system.tree.inbox / "junk.result.json")
    assert result["status"] == "error" and result["job_id"] == "junk"
