"""systemd part of issue 18: a crash must not look like a verdict. It exits 70 with one line,
and the unit restarts 70 but neither a verdict under --service (0) nor a bad config (78)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_binary
from tests.degrade.conftest import REPO

UNIT = REPO / "systemd" / "burnin.service"
EXEC = "/opt/burnin/venv/bin/burnin"

_CRASHING_RUN = """
import sys
import daemon.app
async def boom(self):
    raise ZeroDivisionError("injected crash")
daemon.app.Daemon.serve = boom
from daemon.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_an_uncaught_exception_in_run_exits_70_with_one_line(
        seed_tree: Path, tmp_path: Path) -> None:
    """A real `burnin run` whose daemon raises: exit 70, one stderr line, traceback in the log."""
    result = subprocess.run([sys.executable, "-c", _CRASHING_RUN, "run", "--root",
                             str(seed_tree)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 70
    errors = [ln for ln in result.stderr.splitlines() if "crashed" in ln or "Traceback" in ln]
    assert len(errors) == 1 and "ZeroDivisionError: injected crash" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    events = [json.loads(ln) for ln in (tmp_path / "logs/burnin.jsonl").read_text().splitlines()]
    crash = next(e for e in events if e["event"] == "crashed")
    assert crash["level"] == "critical" and "ZeroDivisionError" in crash["exception"]


def _unit_directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def _systemd_restarts(d: dict[str, list[str]], exit_code: int) -> bool:
    """systemd.service(5) for a main process that exited with `exit_code`."""
    ints = lambda key: {int(v) for vs in d.get(key, []) for v in vs.split()}  # noqa: E731
    if exit_code in ints("RestartPreventExitStatus"):
        return False
    if exit_code in ints("RestartForceExitStatus"):
        return True
    clean = exit_code == 0 or exit_code in ints("SuccessExitStatus")
    return {"always": True, "on-failure": not clean, "on-abnormal": False,
            "no": False}[d["Restart"][0]]


@pytest.mark.parametrize(("code", "restarted"), [
    (0, False),   # a verdict under --service, or SIGTERM
    (70, True),   # crashed
    (1, True),    # Python died before burnin's handler: never a verdict under --service
    (2, True),
    (75, True),   # another daemon held the runtime folder: try again
    (78, False),  # bad config / read-only folder: needs an operator
])
def test_the_unit_restarts_crashes_not_verdicts(code: int, restarted: bool) -> None:
    """The shipped unit's directives: which exit codes systemd restarts."""
    d = _unit_directives()
    assert "--service" in d["ExecStart"][0].split()
    assert _systemd_restarts(d, code) is restarted


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    """A real systemd-analyze verify of the shipped unit (ExecStart on a stub that exists)."""
    analyze = require_binary("systemd-analyze")
    stub = tmp_path / "burnin"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    unit = tmp_path / "burnin.service"
    unit.write_text(UNIT.read_text().replace(EXEC, str(stub)))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
