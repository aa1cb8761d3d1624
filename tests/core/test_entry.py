"""The `burnin` program's exit (daemon.cli.entry): a one-shot check leaves by os._exit once
its output is flushed (no interpreter teardown); every other command exits as usual."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def burnin(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "daemon", *args], capture_output=True,
                          text=True, env=ENV, timeout=120, **kw)  # type: ignore[call-overload]


def test_check_output_is_whole_and_its_exit_code_kept(seed_tree: Path) -> None:
    """A check with findings (the seed tree's state file removed: HIGH) prints its whole JSON
    document and exits 1, although it skips the interpreter's teardown."""
    (seed_tree / "runtime" / "system_state.json").unlink()
    done = burnin("check", "--root", str(seed_tree), "--format", "json", "--only", "health")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert "source.unavailable" in [f["code"] for f in doc["findings"]]


def test_check_into_a_closed_pipe_is_not_a_crash(seed_tree: Path) -> None:
    """`burnin check | head -c 0`: the reader went away before the output; exit 141 (what a
    shell reports for SIGPIPE), not 70 and a crash message."""
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "check", "--root", str(seed_tree),
                             "--format", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV)
    assert proc.stdout is not None
    proc.stdout.close()  # nobody reads the output
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141, err
    assert b"crashed" not in err and b"Traceback" not in err


def test_other_commands_exit_as_usual(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[window]\nduration = 'soon'\n")
    done = burnin("config", "--config", str(bad))
    assert done.returncode == 78
    assert "window.duration" in done.stderr
