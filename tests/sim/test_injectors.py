"""Each fault leaves exactly the artefact its SPEC code detects, and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from daemon.sim.files import json_objects, read_json
from daemon.sim.system import Crash
from daemon.sim.verify import audit

from .driver import Driver

Make = Callable[..., Driver]


def _warm(make_system: Make) -> Driver:
    driver = make_system(faults="none")
    driver.run(6.0)
    return driver


def test_duplicate_result(make_system: Make) -> None:
    """A second result file names the job id of an existing result."""
    driver = _warm(make_system)
    driver.inject("duplicate_result")
    problems = audit(driver.system.tree).problems
    assert len(problems) == 1 and "has 2 results" in problems[0]


def test_duplicate_result_on_an_empty_tree(make_system: Make) -> None:
    """With no result yet, the fault processes one job first, then duplicates it."""
    driver = make_system(faults="none")
    driver.inject("duplicate_result")
    assert "has 2 results" in audit(driver.system.tree).problems[0]


def test_corrupt_journal_line(make_system: Make) -> None:
    """A complete journal line that is not JSON; the snapshot still matches the replay."""
    driver = _warm(make_system)
    driver.inject("corrupt_journal_line")
    driver.run(1.0)
    problems = audit(driver.system.tree).problems
    assert len(problems) == 1 and "is not a JSON object" in problems[0]
    assert driver.system.tree.journal.read_bytes().endswith(b"\n")


def test_duplicate_idempotency_key(make_system: Make) -> None:
    """One grant appended twice with the same key; balances stay non-negative."""
    driver = _warm(make_system)
    driver.inject("duplicate_idempotency_key")
    problems = audit(driver.system.tree).problems
    assert len(problems) == 1 and "used twice" in problems[0]


def test_negative_balance_while_held(make_system: Make) -> None:
    """An account goes below zero for the hold."""
    driver = _warm(make_system)
    driver.inject("negative_balance", hold_s=3600, min_real_s=4)
    problems = audit(driver.system.tree).problems
    assert problems == ["agent-overdraft balance -5.0 < 0"]


def test_negative_balance_is_repaid_after_the_hold(make_system: Make) -> None:
    """When the hold ends a grant brings the account back to zero."""
    driver = _warm(make_system)
    driver.inject("negative_balance", hold_s=3600, min_real_s=4)
    driver.run(5.0)
    assert audit(driver.system.tree).problems == []


def test_snapshot_drift_while_held(make_system: Make) -> None:
    """The snapshot differs from the replay for one account during the hold."""
    driver = _warm(make_system)
    driver.inject("snapshot_drift", hold_s=3600, min_real_s=4, amount=7.5)
    driver.run(1.0)
    problems = audit(driver.system.tree).problems
    assert len(problems) == 1 and problems[0].startswith("snapshot agent-1=")


def test_snapshot_drift_ends_after_the_hold(make_system: Make) -> None:
    """After the hold the snapshot equals the replay again."""
    driver = _warm(make_system)
    driver.inject("snapshot_drift", hold_s=3600, min_real_s=4, amount=7.5)
    driver.run(5.0)
    assert audit(driver.system.tree).problems == []


def test_torn_state_file_while_held(make_system: Make) -> None:
    """The state file is not JSON and no transition happens during the hold."""
    driver = _warm(make_system)
    before = driver.system.machine.count
    driver.inject("torn_state_file", hold_s=7200, min_real_s=3)
    driver.run(2.0)
    assert read_json(driver.system.tree.state) is None
    assert driver.system.machine.count == before


def test_torn_state_file_is_repaired(make_system: Make) -> None:
    """After the hold the state file names the last transition's state."""
    driver = _warm(make_system)
    driver.inject("torn_state_file", hold_s=1800, min_real_s=3)
    driver.run(4.0)
    assert audit(driver.system.tree).problems == []


def test_duplicate_transition_id(make_system: Make) -> None:
    """A continuous transition reuses the previous id: a duplicate, not a gap."""
    driver = _warm(make_system)
    driver.inject("duplicate_transition_id")
    problems = audit(driver.system.tree).problems
    assert len(problems) == 1 and "twice" in problems[0]


def test_lock_timeout_burst_is_above_five_percent(make_system: Make) -> None:
    """The burst is over 5 % of the transitions of the whole window."""
    driver = _warm(make_system)
    driver.inject("lock_timeout_burst", fraction=0.10, min_lines=5)
    report = audit(driver.system.tree)
    assert report.lock_timeouts >= 0.1 * 72 * 3 - 1
    assert report.lock_timeouts / 216 > 0.05


def test_lock_timeout_lines_are_warnings(make_system: Make) -> None:
    """Burst lines are WARNING lines with the SPEC pattern `Lock timeout`."""
    driver = _warm(make_system)
    driver.inject("lock_timeout_burst", fraction=0.10, min_lines=5)
    lines = [x for x in driver.system.tree.worker_log.read_text().splitlines() if "Lock" in x]
    assert lines and all(" WARNING " in x and "Lock timeout" in x for x in lines)


def test_memory_growth_starts_a_bounded_phase(make_system: Make) -> None:
    """The phase grows the held memory and stops at its cap."""
    driver = _warm(make_system)
    driver.inject("memory_growth", hold_s=3600, min_real_s=10, mb_per_real_min=60, max_mb=3)
    driver.run(1.0)
    held = driver.system.memory.held_mb
    driver.run(5.0)
    assert 0 < held <= driver.system.memory.held_mb == 3


def test_stale_claim_crashes_holding_a_claim(make_system: Make) -> None:
    """The worker claims a job by rename and dies: the claim stays, no result."""
    driver = _warm(make_system)
    with pytest.raises(Crash):
        driver.inject("stale_claim", down_real_s=1)
    tree = driver.system.tree
    claims = list(tree.outbox.glob("*.claimed"))
    assert len(claims) == 1 and orjson.loads(claims[0].read_bytes())["job_id"]
    job_id = claims[0].name.removesuffix(".job.json.claimed")
    assert not (tree.inbox / f"{job_id}.result.json").exists()


def test_crash_restart_raises_with_its_down_time(make_system: Make) -> None:
    """The crash fault kills the worker with the planned down time."""
    driver = _warm(make_system)
    with pytest.raises(Crash) as info:
        driver.inject("crash_restart", down_real_s=4)
    assert info.value.down_s == 4


def test_injections_are_recorded_with_expectations(make_system: Make) -> None:
    """Each injection is logged with its time and expected SPEC codes."""
    driver = _warm(make_system)
    driver.inject("corrupt_journal_line")
    records = list(json_objects(driver.system.tree.fault_log))
    assert records[0]["fault"] == "corrupt_journal_line"
    assert records[0]["expect"][0] == {"code": "journal.corrupt_line", "severity": "CRITICAL",
                                       "within_s": 1200}
