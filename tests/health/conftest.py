"""Helpers for the health tests: an Env on a seed tree, real child processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from daemon.checks.base import Env
from daemon.clock import Clock
from daemon.config import Config
from daemon.sources.registry import SourceHub

EnvMaker = Callable[..., Env]


@pytest.fixture
def make_env(seed_tree: Path, tmp_path: Path) -> Iterator[EnvMaker]:
    """Build an Env on `seed_tree` from config sections given as dicts."""
    hubs: list[SourceHub] = []

    def make(clock: Clock, oneshot: bool = False, **sections: Any) -> Env:
        data = {"daemon": {"runtime_dir": str(tmp_path / "rt"), "log_dir": str(tmp_path / "lg")},
                **sections}
        cfg = Config.model_validate(data)
        cfg.system.root = str(seed_tree)
        hub = SourceHub()
        env = Env(cfg=cfg, clock=clock, sources=hub, log=structlog.get_logger(), oneshot=oneshot)
        hub.bind(env)
        hubs.append(hub)
        return env

    yield make
    for hub in hubs:
        hub.close()


@pytest.fixture
def spawn() -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """Start `python -c CODE` as a real child; killed and reaped at teardown."""
    children: list[subprocess.Popen[bytes]] = []

    def start(code: str) -> subprocess.Popen[bytes]:
        child = subprocess.Popen([sys.executable, "-c", code])
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
