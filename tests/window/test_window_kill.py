"""kill -9 of a real daemon process mid-window, then a restart: same window, downtime shown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from daemon.clock import FakeClock
from daemon.records import Figures
from daemon.window.lifecycle import WindowRunner

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys, time
from pathlib import Path
from daemon.clock import SystemClock
from daemon.records import Figures
from daemon.window.lifecycle import WindowRunner
clock = SystemClock(864.0)
runner = WindowRunner(Path(sys.argv[1]), clock, 7200.0, 864.0, 1800.0)
runner.start()
runner.on_tick(clock.time(), Figures())
print("ready", flush=True)
while True:
    time.sleep(0.05)
    runner.on_tick(clock.time(), Figures())
"""


def start_child(runtime: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(runtime)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)


def test_kill_9_then_restart_resumes_the_window_and_reports_downtime(tmp_path, tick):
    """The restarted runner resumes the killed one's window id; the report shows the gap."""
    child = start_child(tmp_path)
    try:
        lines = iter(child.stdout.readline, "")
        assert any(line.strip() == "ready" for line in lines)
        time.sleep(0.3)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
    killed_id = (tmp_path / "current_window").read_text().strip()
    clock = FakeClock(start=time.time(), scale=864.0)  # resume at the real time of restart
    runner = WindowRunner(tmp_path, clock, 7200.0, 864.0, 1800.0)
    window = runner.start()
    tick(runner, clock)
    _, _, folder = runner.finish(clock.time(), [], Figures())
    doc = orjson.loads((folder / "final.json").read_bytes())
    assert window.id == killed_id and doc["window"]["restarts"] == 1
    assert len(doc["window"]["downtime"]) == 1 and doc["window"]["coverage"] < 1
    assert "down from" in (folder / "final.md").read_text()
