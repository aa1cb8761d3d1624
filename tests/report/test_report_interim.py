"""`burnin report` on a running window: the verdict so far from the live alert store, INTERIM.

The real daemon runs a 72 h window at time scale 3600 (a spot report every 8 s real): the
first spot report is GREEN, then a torn state file fires CRITICAL `state.corrupt`, and
`burnin report` (a subprocess, while the daemon runs) must say RED, marked interim.
"""

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


def burnin(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "daemon", *args, "--config",
                           str(cwd / "no-host.toml")], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def wait_for(predicate, what: str, limit_s: float = 30.0) -> None:
    """Poll until `predicate()` (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def status_of(work: Path) -> dict:
    try:
        return json.loads((work / "runtime/status.json").read_text())
    except (OSError, ValueError):
        return {}


@pytest.fixture
def red_window(seed_tree: Path, tmp_path: Path):
    """A running daemon whose window had a GREEN spot report and then a CRITICAL alert."""
    (tmp_path / "no-host.toml").write_text("[system]\nname = 'ledger-test'\n"
                                           "[checks]\ndisabled = ['host']\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "run", "--root", str(seed_tree), "--window", "72h",
         "--time-scale", "3600", "--config", str(tmp_path / "no-host.toml")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: list((tmp_path / "runtime/reports").glob("*/spot-1.json")),
                 "the first spot report")
        (seed_tree / "runtime/system_state.json").write_text('{"state": "RUN')
        wait_for(lambda: status_of(tmp_path).get("verdict") == "RED", "the daemon's RED")
        yield tmp_path
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_report_mid_window_after_a_critical_says_red_interim(red_window: Path) -> None:
    """Markdown and JSON: RED (NO-GO), INTERIM, the CRITICAL among the reasons, no go-ahead."""
    md = burnin(red_window, "report")
    doc = json.loads(burnin(red_window, "report", "--format", "json").stdout)
    assert md.returncode == 0, md.stderr
    assert "**Status:** RED (NO-GO), **INTERIM**" in md.stdout
    assert "GREEN" not in md.stdout.split("## Reasons")[0]
    assert "- [x] Proceed" not in md.stdout and "- [x] Fix issues first" in md.stdout
    assert doc["interim"] is True and doc["verdict"]["color"] == "RED"
    assert "state.corrupt" in {r["code"] for r in doc["verdict"]["reasons"]}
    assert doc["alert_source"].startswith("live alert store")
    assert doc["window"]["phase"] == "running" and doc["system"] == "ledger-test"


def test_the_latest_spot_report_alone_would_have_said_green(red_window: Path) -> None:
    """Control: the spot report written before the CRITICAL is GREEN, so the RED above came
    from the live alert store (skipped if a later spot report already caught the alert)."""
    spots = sorted((red_window / "runtime/reports").glob("*/spot-*.json"))
    if len(spots) > 1:
        pytest.skip("a second spot report was written before the check")
    assert json.loads(spots[0].read_text())["verdict"]["color"] == "GREEN"
    html = burnin(red_window, "report", "--format", "html").stdout
    assert '<span class="badge RED">RED — NO-GO</span>' in html and "INTERIM" in html
