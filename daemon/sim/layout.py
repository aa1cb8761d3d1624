"""Where the reference system writes: the default tree of SPEC §2, plus its private folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tree:
    """The paths of one observed tree rooted at `root`."""

    root: Path

    @property
    def outbox(self) -> Path:
        return self.root / "data/webrelay_out"

    @property
    def inbox(self) -> Path:
        return self.root / "data/webrelay_in"

    @property
    def failed(self) -> Path:
        return self.root / "data/failed_reports"

    @property
    def journal(self) -> Path:
        return self.root / "storage/events/credits.jsonl"

    @property
    def snapshot(self) -> Path:
        return self.root / "runtime/balances.json"

    @property
    def state(self) -> Path:
        return self.root / "runtime/system_state.json"

    @property
    def transitions(self) -> Path:
        return self.root / "logs/state_transitions.jsonl"

    @property
    def worker_log(self) -> Path:
        return self.root / "logs/worker.log"

    @property
    def pidfile(self) -> Path:
        return self.root / "runtime/worker.pid"

    @property
    def private(self) -> Path:
        """The simulator's own records (not part of SPEC §2; burnin does not read them)."""
        return self.root / "runtime/sim"

    @property
    def fault_log(self) -> Path:
        return self.private / "faults.jsonl"

    def create(self) -> Tree:
        """Make every folder and the empty journal; idempotent."""
        for folder in (self.outbox, self.inbox, self.failed, self.journal.parent,
                       self.state.parent, self.transitions.parent, self.private):
            folder.mkdir(parents=True, exist_ok=True)
        self.journal.touch(exist_ok=True)
        self.transitions.touch(exist_ok=True)
        self.worker_log.touch(exist_ok=True)
        return self


SEED_TRANSITION = ('{"transition_id": "t1", "from_state": "STARTING", "to_state": "RUNNING", '
                   '"timestamp": "2026-01-13T10:00:00Z"}\n')


def seed_tree(root: Path) -> Path:
    """A healthy tree at `root` before anything happened (SPEC §2's folders, an empty journal,
    a RUNNING state and one transition that agrees with it): what the tests' fixture and the
    benchmarks observe. Returns `root`."""
    tree = Tree(root)
    for folder in (tree.outbox, tree.inbox, tree.failed, tree.journal.parent,
                   tree.state.parent, tree.transitions.parent):
        folder.mkdir(parents=True)
    tree.journal.write_text("")
    tree.state.write_text('{"state": "RUNNING"}\n')
    tree.transitions.write_text(SEED_TRANSITION)
    return root

