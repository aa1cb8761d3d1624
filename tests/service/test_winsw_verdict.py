"""A RED verdict under WinSW starts no new window (issue 14 item 12).

Only the Windows side is fake: `FakeWinsw` plays WinSW 2.x + the service control manager as
far as burnin meets them — start the definition's <arguments> in <workingdirectory>; a
non-zero exit is a service failure, answered by the next <onfailure> action; exit 0 stops
the service. burnin itself is the real `python -m daemon` process."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from daemon.service.windows import WinswDefinition, parse_winsw

REPO = Path(__file__).resolve().parents[2]
XML = REPO / "packaging" / "windows" / "burnin-service.xml"
pytestmark = pytest.mark.slow


@dataclass
class FakeWinsw:
    definition: WinswDefinition
    base: Path
    exits: list[int] = field(default_factory=list)

    def command(self) -> list[str]:
        text = self.definition.arguments.replace("%BASE%", str(self.base)).replace("\\", "/")
        return [sys.executable, "-m", "daemon", *shlex.split(text)]

    def start(self) -> None:
        """Start the service; apply onfailure actions until it stops (no delays: no clock)."""
        failures = 0
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        while True:
            done = subprocess.run(self.command(), cwd=self.base, env=env, capture_output=True,
                                  text=True, timeout=120)
            self.exits.append(done.returncode)
            if done.returncode == 0:
                return
            actions = self.definition.on_failure
            action = actions[min(failures, len(actions) - 1)] if actions else "none"
            failures += 1
            if action != "restart":
                return


def _service(base: Path, seed_tree: Path, arguments: str | None = None) -> FakeWinsw:
    """The shipped definition on a burnin.toml whose window (1 h at 3600x) ends RED."""
    (seed_tree / "runtime/system_state.json").write_text('{"state": "RUN')  # CRITICAL
    (base / "burnin.toml").write_text(
        f"[system]\nroot = '{seed_tree}'\n[window]\nduration = '1h'\ntime_scale = 3600\n"
        "[checks]\ndisabled = ['host']\n")
    d = parse_winsw(XML.read_text(encoding="utf-8"))
    if arguments is not None:
        d = WinswDefinition(d.id, d.executable, arguments, d.stop_timeout_s,
                            d.stop_parent_first, d.on_failure)
    return FakeWinsw(d, base)


def _windows(base: Path) -> list[str]:
    return sorted(p.name for p in (base / "runtime/windows").iterdir())


def test_red_verdict_under_winsw_is_not_restarted(seed_tree: Path, tmp_path: Path) -> None:
    """The shipped definition: RED ends the service with exit 0, once; the verdict is in
    status.json and final.json; a later start (a reboot) opens no new window."""
    svc = _service(tmp_path, seed_tree)
    svc.start()
    assert svc.exits == [0]
    (wid,) = _windows(tmp_path)
    status = json.loads((tmp_path / "runtime/status.json").read_text())
    assert status["verdict"] == "RED" and status["window"]["phase"] == "completed"
    final = json.loads((tmp_path / f"runtime/reports/{wid}/final.json").read_text())
    assert final["verdict"]["color"] == "RED"
    svc.start()
    assert svc.exits == [0, 0] and _windows(tmp_path) == [wid]


def test_without_service_mode_winsw_restarts_but_opens_no_new_window(
        seed_tree: Path, tmp_path: Path) -> None:
    """The old definition (plain `run`): exit 2 is a failure and WinSW restarts twice; each
    restart finds the completed window and repeats its verdict instead of opening another."""
    svc = _service(tmp_path, seed_tree, 'run --config "%BASE%\\burnin.toml"')
    svc.start()
    assert svc.exits == [2, 2, 2]
    assert len(_windows(tmp_path)) == 1


def test_deleting_the_pointer_starts_the_next_burn_in(seed_tree: Path, tmp_path: Path) -> None:
    """The documented way to begin again under the service: delete runtime/current_window."""
    svc = _service(tmp_path, seed_tree)
    svc.start()
    (tmp_path / "runtime/current_window").unlink()
    svc.start()
    assert svc.exits == [0, 0] and len(_windows(tmp_path)) == 2
