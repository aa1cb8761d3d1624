"""The reference system as real OS processes: supervisor, restarts, pidfile, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from daemon.sim.faults import SCRIPTED
from daemon.sim.files import json_objects
from daemon.sim.layout import Tree
from daemon.sim.verify import audit

SIM = [sys.executable, "-m", "daemon.sim"]


def _run(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SIM, "run", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def _wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def scripted_tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    """One scripted run of a 24 h window compressed into 12 real seconds."""
    root = tmp_path_factory.mktemp("scripted") / "tree"
    done = _run(root, "--time-scale", "7200", "--window", "24h", "--stop-after", "24h",
                "--faults", "scripted", "--seed", "7")
    assert done.returncode == 0, done.stderr
    return Tree(root)


def test_scripted_run_injects_every_fault(scripted_tree: Tree) -> None:
    """The fault log lists every fault of the plan, in order."""
    assert [r["fault"] for r in json_objects(scripted_tree.fault_log)] == \
        [f.name for f in SCRIPTED]


def test_crashes_start_new_processes(scripted_tree: Tree) -> None:
    """Each crash is followed by a new worker process with a new pid."""
    started = list(json_objects(scripted_tree.private / "processes.jsonl"))
    assert [s["incarnation"] for s in started] == [0, 1, 2]
    assert len({s["pid"] for s in started}) == 3


def test_no_process_is_left_after_the_run(scripted_tree: Tree) -> None:
    """When the supervisor returns, no worker incarnation is still alive."""
    for record in json_objects(scripted_tree.private / "processes.jsonl"):
        assert not psutil.pid_exists(record["pid"]) or \
            psutil.Process(record["pid"]).status() == psutil.STATUS_ZOMBIE


def test_clean_process_run_leaves_a_clean_tree(tmp_path: Path) -> None:
    """--faults none as a real process: nothing wrong, pidfile removed at the end."""
    root = tmp_path / "tree"
    done = _run(root, "--time-scale", "8640", "--stop-after", "6h", "--faults", "none",
                "--seed", "11")
    tree = Tree(root)
    assert done.returncode == 0, done.stderr
    report = audit(tree)
    assert report.problems == [] and report.results > 0
    assert not tree.pidfile.exists()


def test_sigterm_stops_supervisor_and_worker(tmp_path: Path) -> None:
    """SIGTERM to the supervisor stops both processes promptly, exit 0."""
    root = tmp_path / "tree"
    proc = subprocess.Popen([*SIM, "run", "--root", str(root), "--faults", "none"],
                            start_new_session=True)
    try:
        _wait_for(root / "runtime/worker.pid")
        worker = int((root / "runtime/worker.pid").read_text())
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not psutil.pid_exists(worker) or \
        psutil.Process(worker).status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize("args", [["--time-scale", "0"], ["--faults", "chaos"],
                                  ["--window", "soon"], ["--time-scale", "nan"]])
def test_bad_arguments_are_refused(tmp_path: Path, args: list[str]) -> None:
    """Bad options exit 2 with a message, before anything is written."""
    done = _run(tmp_path / "tree", *args)
    assert done.returncode == 2 and "error" in done.stderr
    assert not (tmp_path / "tree").exists()


def test_root_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    """A --root that cannot hold the tree exits 2 with a message, no traceback."""
    (tmp_path / "file").write_text("x")
    done = _run(tmp_path / "file")
    assert done.returncode == 2 and "cannot lay out the tree" in done.stderr
    assert "Traceback" not in done.stderr
