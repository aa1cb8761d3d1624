"""Helpers of the source tests: an Env on a real tree in the seed layout (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from daemon.clock import Clock, SystemClock
from daemon.config import load_config
from daemon.sources.registry import SourceHub
from daemon.unit import Env


def make_env(root: Path, clock: Clock | None = None, oneshot: bool = False,
             **overrides: dict[str, Any]) -> Env:
    """An Env on `root`, with config tables overridden (`jobs={...}`, `journal={...}`)."""
    cfg = load_config(root=str(root), overrides=overrides or None)
    hub = SourceHub()
    env = Env(cfg=cfg, clock=clock or SystemClock(), sources=hub,
              log=structlog.get_logger("test"), oneshot=oneshot)
    hub.bind(env)
    return env
