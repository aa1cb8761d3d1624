"""The real daemon as a subprocess, for end-to-end tests: start it, wait for a condition."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).parents[1]


def burnin(*args: str, cwd: Path, **kw: object) -> subprocess.Popen[str]:
    """`python -m daemon ARGS` in `cwd`, this checkout's code, output captured as text."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "daemon", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kw)  # type: ignore[call-overload]


def wait_for(pred: Callable[[], object], timeout: float = 20.0) -> object:
    """Poll `pred` every 50 ms until it is truthy (its value) or `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
