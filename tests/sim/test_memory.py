"""The memory phase really grows resident memory, at its rate, up to its cap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from daemon.sim.memory import MemoryPhase


def test_target_follows_the_rate() -> None:
    """60 MB per real minute means 30 MB after 30 s."""
    phase = MemoryPhase()
    phase.begin(now=100.0, until=1000.0, mb_per_real_min=60.0, max_mb=150.0)
    assert phase.target_mb(130.0) == 30


def test_growth_stops_at_the_end_of_the_phase() -> None:
    """After `until` the target no longer grows."""
    phase = MemoryPhase()
    phase.begin(now=0.0, until=10.0, mb_per_real_min=60.0, max_mb=150.0)
    assert phase.target_mb(10.0) == phase.target_mb(500.0) == 10


def test_growth_is_capped() -> None:
    """The held memory never exceeds max_mb."""
    phase = MemoryPhase()
    phase.begin(now=0.0, until=1e9, mb_per_real_min=600.0, max_mb=5.0)
    assert phase.target_mb(3600.0) == 5


def test_idle_phase_holds_nothing() -> None:
    """Before any memory fault nothing is allocated."""
    phase = MemoryPhase()
    phase.tick(1e9)
    assert phase.held_mb == 0


def test_held_memory_is_resident() -> None:
    """Ticking the phase raises a fresh process's RSS by about the held amount."""
    code = (
        "import psutil\n"
        "from daemon.sim.memory import MB, MemoryPhase\n"
        "before = psutil.Process().memory_info().rss\n"
        "phase = MemoryPhase()\n"
        "phase.begin(now=0.0, until=60.0, mb_per_real_min=60.0, max_mb=40.0)\n"
        "phase.tick(40.0)\n"
        "print(phase.held_mb, (psutil.Process().memory_info().rss - before) // MB)\n"
    )
    repo = str(Path(__file__).parents[2])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": repo}, check=True, timeout=60).stdout
    held, grown = (int(x) for x in out.split())
    assert held == 40 and grown >= 30
