"""A crashed worker's successor resumes from the tree, and the whole plan leaves every artefact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.sim.faults import SCRIPTED
from daemon.sim.files import json_objects
from daemon.sim.inject import inject
from daemon.sim.system import Crash, Options, System
from daemon.sim.verify import audit

from .driver import START, Driver

Make = Callable[..., Driver]


def _successor(driver: Driver, down_s: float) -> Driver:
    old = driver.system.opts
    opts = Options(root=old.root, scale=old.scale, window_s=old.window_s, start=old.start,
                   faults=old.faults, seed=old.seed, incarnation=old.incarnation + 1)
    now = driver.now + down_s
    system = System(opts, inject)
    system.skip_injected_faults()
    return Driver(system, now)


def _run_supervised(driver: Driver, until: float) -> tuple[Driver, int]:
    crashes = 0
    while driver.now < until:
        try:
            driver.run(until - driver.now)
        except Crash as crash:
            crashes += 1
            driver = _successor(driver, crash.down_s)
    return driver, crashes


def test_successor_continues_ledger_and_transitions(make_system: Make) -> None:
    """After a crash the new incarnation replays balances and continues the state log."""
    driver = make_system(faults="none")
    driver.run(10.0)
    successor = _successor(driver, 1.0)
    successor.run(10.0)
    assert audit(successor.system.tree).problems == []
    ids = [t["transition_id"] for t in json_objects(successor.system.tree.transitions)]
    assert any(i.startswith("tr-i1-") for i in ids)


def test_successor_repairs_a_torn_state_file(make_system: Make) -> None:
    """A state file left torn by a crash is rewritten when the worker restarts."""
    driver = make_system(faults="none")
    driver.run(5.0)
    driver.system.tree.state.write_bytes(b'{"sta')
    successor = _successor(driver, 1.0)
    assert audit(successor.system.tree).problems == []


def test_successor_survives_a_garbage_tree(tmp_path: Path) -> None:
    """Garbage journal, transitions and snapshot do not stop the system from starting."""
    root = tmp_path / "tree"
    (root / "storage/events").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "storage/events/credits.jsonl").write_bytes(b"\x00\x00\n[1,2]\n{bad\n{\"delta\": 1}")
    (root / "logs/state_transitions.jsonl").write_bytes(b"nope\n[]\n{\"to_state\": 5}\n")
    system = System(Options(root=root, faults="none", start=START), inject)
    Driver(system).run(2.0)
    assert system.ledger.event_count >= 1


def test_scripted_plan_leaves_every_artefact(make_system: Make) -> None:
    """Over a whole window the scripted plan injects every fault, crashes twice, and ends."""
    driver = make_system(faults="scripted", window_s=24 * 3600.0, scale=2880.0)
    driver, crashes = _run_supervised(driver, START + 24 * 3600 / 2880 + 1)
    tree = driver.system.tree
    injected = [r["fault"] for r in json_objects(tree.fault_log)]
    assert injected == [f.name for f in SCRIPTED] and crashes == 2
    problems = " | ".join(audit(tree).problems)
    for artefact in ("has 2 results", "still claimed", "not a JSON object", "used twice",
                     "transition id", "lock timeouts"):
        assert artefact in problems


def test_fault_due_while_down_is_injected_on_restart(make_system: Make) -> None:
    """A fault whose time passed while the worker was down runs when it is back."""
    driver = make_system(faults="scripted", window_s=24 * 3600.0, scale=2880.0)
    with pytest.raises(Crash):
        driver.run(30.0)
    successor = _successor(driver, 1000.0)  # long past crash_restart's time
    names = [f.name for f in successor.system.pending_faults]
    assert names == ["crash_restart"]
