"""A reference system driven tick by tick on synthetic time (no sleeping)."""

from __future__ import annotations

from daemon.sim.faults import Fault
from daemon.sim.system import System

START = 1_800_000_000.0
SCALE = 864.0


class Driver:
    """Ticks a System on a synthetic clock (real seconds), without sleeping."""

    def __init__(self, system: System, now: float = START) -> None:
        self.system = system
        self.now = now

    def run(self, real_s: float, step_s: float = 0.05) -> None:
        end = self.now + real_s
        while self.now < end:
            self.now += step_s
            self.system.tick(self.now)

    def inject(self, name: str, **params: float) -> None:
        self.system.pending_faults = [Fault(0.0, name, params)]
        self.system.tick(self.now)
