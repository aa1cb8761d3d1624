"""Shared fixtures. Async tests use anyio's pytest plugin on asyncio."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from daemon.clock import FakeClock
from daemon.sim import layout

# No host CPU reading kept between one-shot checks (daemon/sources/cpucache.py) unless a test
# asks for one: one test's check must not shorten another's sample. Inherited by subprocesses.
os.environ["BURNIN_CPU_CACHE"] = ""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def require_binary(name: str) -> str:
    """Path of an external program a test needs; in CI (CI=true) a missing one fails the test."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI (.ci/run installs it)")
        pytest.skip(f"{name} not installed")
    return path


@pytest.fixture
def seed_tree(tmp_path: Path) -> Path:
    """A healthy, empty tree in the seed layout of SPEC §2."""
    return layout.seed_tree(tmp_path / "root")
