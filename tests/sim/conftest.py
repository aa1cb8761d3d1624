"""Fixtures of the reference-system tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.sim.inject import inject
from daemon.sim.system import Options, System

from .driver import SCALE, START, Driver


@pytest.fixture
def make_system(tmp_path: Path) -> Callable[..., Driver]:
    def make(faults: str = "none", seed: int = 0, incarnation: int = 0,
             now: float = START, **kw: float) -> Driver:
        opts = Options(root=tmp_path / "tree", scale=kw.pop("scale", SCALE),
                       window_s=kw.pop("window_s", 72 * 3600.0), start=START, faults=faults,
                       seed=seed, incarnation=incarnation, **kw)
        return Driver(System(opts, inject), now)

    return make
