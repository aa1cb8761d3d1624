"""The real daemon explains RED: a CRITICAL one-off event (a corrupt journal line) is never
open, yet `burnin status` and `burnin watch` (in a tmux pane) list it with its fingerprint."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def wait_for(predicate, what: str, limit_s: float = 30.0):
    """Poll until `predicate()` is truthy (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)
    return value


def recent_event(work: Path) -> dict | None:
    try:
        doc = json.loads((work / "runtime/status.json").read_text())
    except (OSError, ValueError):
        return None
    found = [a for a in doc.get("alerts", {}).get("recent", [])
             if a.get("code") == "journal.corrupt_line"]
    return {"doc": doc, "event": found[0]} if found else None


@pytest.fixture
def red_by_event(seed_tree: Path, tmp_path: Path):
    """A running daemon whose journal got one corrupt line (CRITICAL event, never open)."""
    cfg = tmp_path / "no-host.toml"
    cfg.write_text("[checks]\ndisabled = ['host']\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "run", "--root", str(seed_tree), "--window", "72h",
         "--time-scale", "600", "--config", str(cfg)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (tmp_path / "runtime/status.json").exists(), "status.json")
        with (seed_tree / "storage/events/credits.jsonl").open("a") as fh:
            fh.write("this is not json\n")
        found = wait_for(lambda: recent_event(tmp_path), "alerts.recent with the event")
        yield tmp_path, cfg, found
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_status_json_and_text_list_the_event(red_by_event) -> None:
    """status.json: RED, the event in alerts.recent, not in alerts.open; the text shows it."""
    work, cfg, found = red_by_event
    doc, event = found["doc"], found["event"]
    assert doc["verdict"] == "RED" and event["severity"] == "CRITICAL"
    assert event["kind"] == "event" and len(event["fingerprint"]) == 16
    assert "journal.corrupt_line" not in {a["code"] for a in doc["alerts"]["open"]}
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "daemon", "status", "--config", str(cfg)],
                         cwd=work, env=env, capture_output=True, text=True, timeout=60).stdout
    line = next(ln for ln in out.splitlines() if event["fingerprint"] in ln)
    assert "journal.corrupt_line" in line and "event" in line
    assert "RED because: CRITICAL journal.corrupt_line" in out


def test_watch_in_tmux_shows_the_event(red_by_event) -> None:
    """`burnin watch` in a 200x80 tmux pane shows the event and its fingerprint."""
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux not installed")
    work, cfg, found = red_by_event
    session = f"burnin-watch-{os.getpid()}"
    cmd = (f"cd {work} && COLUMNS=200 LINES=80 PYTHONPATH={REPO} {sys.executable} "
           f"-m daemon watch --config {cfg}")
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", "200", "-y", "80", cmd],
                   check=True)
    try:
        def screen() -> str | None:
            text = subprocess.run([tmux, "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True).stdout
            seen.append(text)
            return text if found["event"]["fingerprint"] in text else None

        seen: list[str] = [""]
        try:
            text = wait_for(screen, "the watch screen with the event")
        except pytest.fail.Exception:
            pytest.fail(f"the watch screen never showed the event:\n{seen[-1]}")
        assert "journal.corrupt_line" in text and "verdict RED" in text
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True)
