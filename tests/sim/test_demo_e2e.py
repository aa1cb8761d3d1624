"""End to end: `burnin demo` with the real daemon on the reference system (issue 8).

A 24 h window at time scale 2880 takes 30 real seconds per run; four runs fit in CI's
3 minutes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from daemon.sim.demo import DemoDir, run_demo
from daemon.sim.faults import SCRIPTED
from daemon.sim.files import json_objects, read_json
from daemon.sim.outcome import above_info, outcomes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

WINDOW, SCALE = "24h", 2880.0


def _run(tmp_path: Path, faults: str, seed: int) -> tuple[int, DemoDir]:
    # The host rule measures the machine running the tests (shared CI cores), not the
    # reference system: it is switched off so the verdict is about the system alone.
    demo_dir = tmp_path / "demo"
    code = run_demo(WINDOW, SCALE, faults, demo_dir, seed,
                    console=Console(file=io.StringIO(), width=120), poll_s=0.5,
                    disabled_rules=("host",))
    return code, DemoDir(demo_dir.resolve())


def _alerts(demo: DemoDir) -> list[dict[str, Any]]:
    return list(json_objects(demo.alerts))


def _final_verdict(demo: DemoDir) -> str:
    """The verdict colour of the window's final.json (final.html must exist too)."""
    window_id = read_json(demo.status)["window"]["id"]
    assert (demo.runtime / "reports" / window_id / "final.html").exists()
    report = read_json(demo.runtime / "reports" / window_id / "final.json")
    verdict = report.get("verdict") if isinstance(report, dict) else None
    return str(verdict.get("color") if isinstance(verdict, dict) else verdict)


def test_scripted_faults_are_all_detected_in_time_and_red(tmp_path: Path) -> None:
    """Every injected fault raises its SPEC code and severity within its deadline; RED."""
    code, demo = _run(tmp_path, "scripted", seed=1)
    injected = list(json_objects(demo.tree.fault_log))
    assert [r["fault"] for r in injected] == [f.name for f in SCRIPTED]
    rows = outcomes(injected, _alerts(demo), SCALE)
    assert [(r.fault, r.code, r.delay_s) for r in rows if not r.in_time] == []
    assert code == 2 and _final_verdict(demo) == "RED"


@pytest.mark.parametrize("seed", [11, 22, 33])
def test_clean_run_is_green(tmp_path: Path, seed: int) -> None:
    """--faults none over the same window: nothing above INFO, verdict GREEN."""
    code, demo = _run(tmp_path, "none", seed=seed)
    assert [(a["code"], a["severity"]) for a in above_info(_alerts(demo))] == []
    assert code == 0 and _final_verdict(demo) == "GREEN"
