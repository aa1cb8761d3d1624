"""Cadences: no overlap, coalesced slots counted, overdue checks fired."""

from __future__ import annotations

from daemon.clock import FakeClock
from daemon.logsetup import get_logger
from daemon.schedule import Cadences, interval_real


def make() -> tuple[Cadences, list[str], FakeClock]:
    clock = FakeClock()
    fired: list[str] = []
    cad = Cadences(clock, fired.append, get_logger())
    cad.add("health", 1.0)
    return cad, fired, clock


def test_slot_while_running_is_coalesced_not_missed() -> None:
    """A slot that fires while the check still runs joins that run and is counted."""
    cad, fired, _ = make()
    cad.fire("health")
    cad.slots["health"].busy = True
    cad.fire("health")
    assert fired == ["health"]
    assert cad.take_missed("health") == (0, 1)


def test_overdue_check_is_fired_and_counted_missed() -> None:
    """A check not fired for two intervals (wall clock jumped back) is fired and counted."""
    cad, fired, clock = make()
    clock.advance(3.5)
    assert cad.overdue() == ["health"]
    assert fired == ["health"]
    assert cad.take_missed("health") == (1, 0)


def test_cadence_is_scaled_with_a_floor() -> None:
    """1 min at scale 60 is 1 s; at scale 3600 it is held at the floor."""
    assert interval_real(FakeClock(scale=60), 60, 0.25) == 1.0
    assert interval_real(FakeClock(scale=3600), 60, 0.25) == 0.25
