"""The memory phase really grows resident memory, at its rate, up to its cap."""

from __future__ import annotations

import psutil

from daemon.sim.memory import MB, MemoryPhase


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
    """Ticking the phase raises this process's RSS by about the held amount."""
    proc = psutil.Process()
    before = proc.memory_info().rss
    phase = MemoryPhase()
    phase.begin(now=0.0, until=60.0, mb_per_real_min=60.0, max_mb=40.0)
    phase.tick(40.0)
    grown = proc.memory_info().rss - before
    assert phase.held_mb == 40 and grown >= 30 * MB
