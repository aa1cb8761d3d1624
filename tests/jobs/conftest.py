"""Helpers for the job-folder tests: an Env on a real tree, and file writers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import structlog

from daemon.checks.base import Env, Tick
from daemon.clock import Clock, SystemClock
from daemon.config import load_config
from daemon.sources.registry import SourceHub

OUT, IN, FAILED = "data/webrelay_out", "data/webrelay_in", "data/failed_reports"


def make_env(root: Path, clock: Clock | None = None, oneshot: bool = False,
             state_dir: Path | None = None, **jobs: Any) -> Env:
    """An Env on `root` with `[jobs]` overrides (durations as numbers of seconds)."""
    cfg = load_config(root=str(root), overrides={"jobs": jobs} if jobs else None)
    hub = SourceHub()
    env = Env(cfg=cfg, clock=clock or SystemClock(), sources=hub,
              log=structlog.get_logger("test"), oneshot=oneshot, state_dir=state_dir)
    hub.bind(env)
    return env


def tick(env: Env, check: str = "jobs") -> Tick:
    return Tick(check=check, now=env.clock.time())


def write(path: Path, obj: Any = None, raw: bytes | None = None, age_s: float = 0.0) -> Path:
    """Write a file (JSON of `obj`, or `raw` bytes) and backdate its mtime by `age_s`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw if raw is not None else json.dumps(obj).encode())
    if age_s:
        st = path.stat()
        os.utime(path, (st.st_atime - age_s, st.st_mtime - age_s))
    return path


def codes(findings: list[Any]) -> list[tuple[str, str]]:
    return sorted((f.code, f.subject) for f in findings)


@pytest.fixture
def tree(seed_tree: Path) -> Path:
    return seed_tree
