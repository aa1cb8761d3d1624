"""daemon/sim/runner.py: the system process, as a real subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from daemon.sim.layout import Tree
from daemon.sim.runner import RunSpec, crash_down_s, system_command
from daemon.sim.system import Options

ROOT = Path(__file__).resolve().parents[2]


def test_system_process_stops_after_its_nominal_time(tmp_path: Path) -> None:
    """With default options it stops after 60 nominal s: exit 0, snapshot out, no pidfile."""
    spec = RunSpec(Options(root=tmp_path / "tree", scale=3600.0, faults="none"),
                   stop_after_s=60.0)
    done = subprocess.run(system_command(spec, 0), cwd=ROOT, capture_output=True, timeout=60)
    tree = Tree(tmp_path / "tree")
    assert done.returncode == 0, done.stderr
    assert not tree.pidfile.exists()
    assert "balances" in json.loads(tree.snapshot.read_text())


def test_command_carries_the_options(tmp_path: Path) -> None:
    """The system command line repeats the run's options for each incarnation."""
    spec = RunSpec(Options(root=tmp_path, scale=10.0, faults="none", seed=7,
                           jobs_per_second=2.0))
    cmd = system_command(spec, 3)
    assert cmd[cmd.index("--incarnation") + 1] == "3" and cmd[cmd.index("--seed") + 1] == "7"
    assert "--jobs-per-second" in cmd and "--stop-after" not in cmd


def test_crash_down_time_comes_from_the_last_fault(tmp_path: Path) -> None:
    """The supervisor waits the down time of the last logged crash (default without one)."""
    tree = Tree(tmp_path).create()
    assert crash_down_s(tree, default=1.0) == 1.0
    tree.fault_log.parent.mkdir(parents=True, exist_ok=True)
    tree.fault_log.write_text(json.dumps({"fault": "crash_restart",
                                          "params": {"down_real_s": 4.0}}) + "\n")
    assert crash_down_s(tree) == 4.0
