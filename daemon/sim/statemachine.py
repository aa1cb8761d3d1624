"""The state machine of the reference system: `runtime/system_state.json` + transitions log.

A transition is appended to the log, then the state file is replaced atomically, back to back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from daemon.clock import iso
from daemon.sim.files import append_json, json_objects, replace_json
from daemon.sim.layout import Tree

STATES = ("STARTING", "OPERATIONAL", "DEGRADED", "MAINTENANCE")
NEXT = {"STARTING": ("OPERATIONAL",), "OPERATIONAL": ("DEGRADED", "MAINTENANCE"),
        "DEGRADED": ("OPERATIONAL",), "MAINTENANCE": ("OPERATIONAL",)}
GAP_NOMINAL_S = (900.0, 1500.0)  # one transition every 15-25 nominal minutes


@dataclass
class StateMachine:
    tree: Tree
    rng: random.Random
    prefix: str
    state: str = "STARTING"
    count: int = 0
    last_id: str = ""
    next_due: float = 0.0  # nominal seconds
    paused_until: float = 0.0  # real seconds: a fault holds the state file

    @classmethod
    def resume(cls, tree: Tree, rng: random.Random, prefix: str) -> StateMachine:
        """Continue from the last logged transition (or start from STARTING)."""
        machine = cls(tree, rng, prefix)
        for record in json_objects(tree.transitions):
            to_state, tid = record.get("to_state"), record.get("transition_id")
            if isinstance(to_state, str) and to_state in STATES:
                machine.state, machine.last_id = to_state, str(tid)
        if machine.last_id:
            machine.write_state()  # a restart repairs a state file left torn by a crash
        return machine

    def tick(self, now: float, nominal_now: float) -> None:
        if now < self.paused_until:
            return
        if self.state == "STARTING" or nominal_now >= self.next_due:
            self.transition(now, self.rng.choice(NEXT[self.state]))
            self.next_due = nominal_now + self.rng.uniform(*GAP_NOMINAL_S)

    def transition(self, now: float, to_state: str, transition_id: str | None = None) -> None:
        """Log one transition and apply it to the state file."""
        self.count += 1
        tid = transition_id or f"{self.prefix}-{self.count:05d}"
        append_json(self.tree.transitions, {"transition_id": tid, "from_state": self.state,
                                            "to_state": to_state, "timestamp": iso(now)})
        self.state, self.last_id = to_state, tid
        self.write_state()

    def write_state(self) -> None:
        replace_json(self.tree.state, {"state": self.state})
