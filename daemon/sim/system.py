"""The reference system: every part of it advanced by one `tick(now)` on one clock.

`now` is real epoch seconds, read once per tick by the runner; nominal (window) time is
`(now - start) * scale`. Faults of the plan are applied when their time comes, through the
injectors of `daemon.sim.inject`; a fault that lasts registers an undo for later.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from daemon.clock import iso
from daemon.sim import faults as plans
from daemon.sim.faults import Crash as Crash  # re-exported: the runner and tests catch it here
from daemon.sim.files import append_json, json_objects
from daemon.sim.jobs import Producer, Worker
from daemon.sim.layout import Tree
from daemon.sim.ledger import Ledger
from daemon.sim.memory import MemoryPhase
from daemon.sim.plainlog import PlainLog
from daemon.sim.statemachine import StateMachine


@dataclass(frozen=True)
class Options:
    root: Path
    scale: float = 864.0
    window_s: float = 72 * 3600.0  # nominal
    start: float = 0.0  # real epoch seconds of nominal time 0
    faults: str = "scripted"
    seed: int = 0
    incarnation: int = 0
    jobs_per_second: float | None = None  # load mode (real jobs per second)
    produce: bool = True  # False when the supervisor process is the producer
    snapshot_every_s: float = 0.0  # real seconds between snapshot writes (0: every change)


def make_producer(opts: Options, tree: Tree, prefix: str) -> Producer:
    """The producer of `opts`: seed rate (10-20 jobs per nominal hour) or load mode."""
    gap = opts.scale / opts.jobs_per_second if opts.jobs_per_second else None
    return Producer(tree, random.Random(f"{opts.seed}:{prefix}"), prefix, gap)


class System:
    def __init__(self, opts: Options,
                 inject: Callable[[System, plans.Fault, float], None]) -> None:
        """`inject` applies a due fault (`daemon.sim.inject.inject`, passed in by the caller:
        the injectors know the system, the system does not know them)."""
        self.opts = opts
        self.inject = inject
        self.tree = Tree(opts.root).create()
        rng = random.Random(f"{opts.seed}:{opts.incarnation}")
        prefix = f"i{opts.incarnation}"
        self.log = PlainLog(self.tree.worker_log)
        self.ledger = Ledger.replay(self.tree.journal)
        self.producer = make_producer(opts, self.tree, f"job-{prefix}")
        self.worker = Worker(self.tree, self.ledger, self.log)
        self.machine = StateMachine.resume(self.tree, rng, f"tr-{prefix}")
        self.memory = MemoryPhase()
        self.drift: dict[str, Decimal] = {}
        self.holds: list[tuple[float, Callable[[], None]]] = []
        self.pending_faults = list(plans.plan(opts.faults))
        self._published: tuple[int, tuple[tuple[str, Decimal], ...]] | None = None
        self._published_at = float("-inf")

    def nominal(self, now: float) -> float:
        return (now - self.opts.start) * self.opts.scale

    def skip_injected_faults(self) -> None:
        """A restarted system does not replay the faults its predecessors already injected.

        A fault that fell due while the worker was down is injected as soon as it is back.
        """
        done = {(r.get("fault"), r.get("planned_at")) for r in json_objects(self.tree.fault_log)}
        self.pending_faults = [f for f in self.pending_faults if (f.name, f.at) not in done]

    def is_due(self, fault: plans.Fault, now: float) -> bool:
        return self.nominal(now) >= fault.at * self.opts.window_s

    def tick(self, now: float) -> None:
        nominal_now = self.nominal(now)
        self.release_holds(now)
        self.run_faults(now)
        self.worker.tick(now)
        if self.opts.produce:
            self.producer.tick(now, nominal_now)
        self.machine.tick(now, nominal_now)
        self.memory.tick(now)
        if now - self._published_at >= self.opts.snapshot_every_s:
            self.publish_snapshot(now)

    def run_faults(self, now: float) -> None:
        while self.pending_faults and self.is_due(self.pending_faults[0], now):
            fault = self.pending_faults.pop(0)
            self.record(now, fault)
            self.inject(self, fault, now)

    def record(self, now: float, fault: plans.Fault) -> None:
        """Note the injection in `runtime/sim/faults.jsonl` (tests and the demo read it)."""
        expects = [{"code": e.code, "severity": e.severity.name, "within_s": e.within_s}
                   for e in plans.EXPECTED[fault.name]]
        append_json(self.tree.fault_log, {
            "fault": fault.name, "planned_at": fault.at, "at": iso(now), "at_epoch": now,
            "nominal_s": round(self.nominal(now), 3), "incarnation": self.opts.incarnation,
            "params": dict(fault.params), "expect": expects})

    def hold(self, until: float, undo: Callable[[], None]) -> None:
        self.holds.append((until, undo))

    def release_holds(self, now: float) -> None:
        due = [h for h in self.holds if h[0] <= now]
        self.holds = [h for h in self.holds if h[0] > now]
        for _, undo in due:
            undo()

    def publish_snapshot(self, now: float) -> None:
        """Write `runtime/balances.json` when the projection (or a simulated drift) changed."""
        key = (self.ledger.event_count, tuple(sorted(self.drift.items())))
        if key != self._published:
            self.ledger.write_snapshot(self.tree.snapshot, self.drift)
            self._published, self._published_at = key, now
