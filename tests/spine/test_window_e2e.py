"""Whole compressed windows with the real daemon process: verdict, exit code, reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
pytestmark = pytest.mark.slow


def run(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`burnin ARGS` with the host rule off: it measures the (shared) test machine."""
    cfg = cwd / "no-host.toml"
    cfg.write_text("[checks]\ndisabled = ['host']\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "daemon", *args, "--config", str(cfg)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def report_dir(work: Path) -> Path:
    (folder,) = (work / "runtime/reports").iterdir()
    return folder


def test_healthy_two_hour_window_ends_green(seed_tree: Path, tmp_path: Path) -> None:
    """2 h at scale 3600 on a healthy tree: exit 0 and every report file."""
    done = run(tmp_path, "run", "--root", str(seed_tree), "--window", "2h",
               "--time-scale", "3600")
    assert done.returncode == 0, done.stderr
    folder = report_dir(tmp_path)
    assert {"final.json", "final.md", "final.html"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "final.json").read_text())["verdict"]["color"] == "GREEN"
    status = json.loads((tmp_path / "runtime/status.json").read_text())
    assert status["window"]["phase"] == "completed" and status["verdict"] == "GREEN"


def test_planted_critical_ends_red_with_its_reason(seed_tree: Path, tmp_path: Path) -> None:
    """A torn state file during the window: exit 2 and state.corrupt in the report."""
    (seed_tree / "runtime/system_state.json").write_text('{"state": "RUN')
    done = run(tmp_path, "run", "--root", str(seed_tree), "--window", "2h",
               "--time-scale", "3600")
    assert done.returncode == 2, done.stderr
    assert "state.corrupt" in (report_dir(tmp_path) / "final.md").read_text()
    verdicts = [json.loads(line) for line in
                (tmp_path / "logs/alerts.jsonl").read_text().splitlines()]
    assert any(v.get("code") == "window.verdict" for v in verdicts)


def test_kill_9_mid_window_resumes_and_reports_downtime(seed_tree: Path, tmp_path: Path
                                                        ) -> None:
    """kill -9, restart: the same window id, the gap recorded as downtime, verdict YELLOW."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    (tmp_path / "no-host.toml").write_text("[checks]\ndisabled = ['host']\n")
    args = [sys.executable, "-m", "daemon", "run", "--root", str(seed_tree),
            "--window", "2h", "--time-scale", "900", "--config", str(tmp_path / "no-host.toml")]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    status = tmp_path / "runtime/status.json"
    deadline = time.monotonic() + 10
    while not status.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    first_id = json.loads(status.read_text())["window"]["id"]
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.5)
    done = run(tmp_path, "run", "--root", str(seed_tree), "--window", "2h",
               "--time-scale", "900")
    assert done.returncode == 1, done.stderr
    final = json.loads((report_dir(tmp_path) / "final.json").read_text())
    assert final["window"]["id"] == first_id
    assert final["window"]["downtime"], "the kill -9 gap is recorded"
