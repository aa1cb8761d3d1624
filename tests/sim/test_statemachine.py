"""daemon/sim/statemachine.py: the state file and its transitions log."""

from __future__ import annotations

import json
import random
from pathlib import Path

from daemon.sim.files import json_objects
from daemon.sim.layout import Tree
from daemon.sim.statemachine import NEXT, StateMachine


def _machine(tmp_path: Path, seed: int = 0) -> tuple[Tree, StateMachine]:
    tree = Tree(tmp_path / "tree").create()
    return tree, StateMachine.resume(tree, random.Random(seed), "tr")


def test_first_tick_leaves_starting(tmp_path: Path) -> None:
    """The first tick moves STARTING to OPERATIONAL, logged then written to the state file."""
    tree, machine = _machine(tmp_path)
    machine.tick(0.0, 0.0)
    [record] = json_objects(tree.transitions)
    assert (record["from_state"], record["to_state"]) == ("STARTING", "OPERATIONAL")
    assert json.loads(tree.state.read_text()) == {"state": "OPERATIONAL"}


def test_every_transition_is_allowed(tmp_path: Path) -> None:
    """Over many ticks each logged transition follows the allowed next states."""
    tree, machine = _machine(tmp_path, seed=3)
    for n in range(200):
        machine.tick(float(n), n * 1000.0)
    pairs = [(r["from_state"], r["to_state"]) for r in json_objects(tree.transitions)]
    assert len(pairs) > 10 and all(to in NEXT[frm] for frm, to in pairs)


def test_resume_continues_and_repairs_the_state_file(tmp_path: Path) -> None:
    """A restarted machine takes the last logged state and rewrites a torn state file."""
    tree, machine = _machine(tmp_path)
    machine.transition(0.0, "OPERATIONAL")
    machine.transition(1.0, "DEGRADED")
    tree.state.write_text('{"sta')
    again = StateMachine.resume(tree, random.Random(0), "tr2")
    assert (again.state, again.last_id) == ("DEGRADED", "tr-00002")
    assert json.loads(tree.state.read_text()) == {"state": "DEGRADED"}


def test_a_held_state_file_pauses_transitions(tmp_path: Path) -> None:
    """While paused (a fault holds the state file), ticks change nothing."""
    tree, machine = _machine(tmp_path)
    machine.paused_until = 10.0
    machine.tick(5.0, 1e9)
    assert machine.state == "STARTING" and list(json_objects(tree.transitions)) == []
