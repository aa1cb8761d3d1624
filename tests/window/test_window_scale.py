"""One owner of the time scale: the window (SPEC §4 "The window owns its time scale")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.alerts import cli as alerts_cli
from daemon.clock import FakeClock
from daemon.config import load_config
from daemon.window.lifecycle import WindowRunner
from daemon.window.store import TimeScaleError, WindowStore, resume_scale

REPO = Path(__file__).resolve().parents[2]
H = 3600.0


def opened_at(runtime: Path, scale: float) -> str:
    """A running window opened at `scale` whose daemon is gone (killed)."""
    store = WindowStore(runtime, FakeClock(scale=scale))
    return store.open(72 * H, scale).id


@pytest.mark.parametrize(("given", "scale", "new", "outcome"), [
    (True, 1.0, False, "refused"),
    (True, 864.0, False, 864.0),
    (False, 1.0, False, 864.0),   # nothing said: the window keeps its own scale
    (True, 1.0, True, 1.0),       # --new-window: a new window at the new scale
], ids=["other-given", "same-given", "not-given", "new-window"])
def test_resume_scale_table(tmp_path, given, scale, new, outcome):
    """A running window keeps its scale; another scale given explicitly is refused."""
    opened_at(tmp_path, 864.0)
    if outcome == "refused":
        with pytest.raises(TimeScaleError, match=r"864.*time scale 1 refused"):
            resume_scale(tmp_path, scale, given, "burnin.toml", new)
    else:
        assert resume_scale(tmp_path, scale, given, "burnin.toml", new) == outcome


def test_runner_sets_the_clock_to_the_windows_scale(tmp_path):
    """Resumed without a scale, the window's 864 drives the clock, not the config's 1."""
    window_id = opened_at(tmp_path, 864.0)
    cfg = load_config()
    clock = FakeClock(scale=cfg.window.time_scale)
    window = WindowRunner.from_config(cfg, tmp_path, clock).start()
    assert (window.id, window.time_scale, clock.scale) == (window_id, 864.0, 864.0)


def test_runner_refuses_an_explicit_other_scale(tmp_path):
    """The lifecycle refuses too (not only the command line), before resuming."""
    opened_at(tmp_path, 864.0)
    cfg = load_config(overrides={"window": {"time_scale": 1.0}})
    with pytest.raises(TimeScaleError):
        WindowRunner.from_config(cfg, tmp_path, FakeClock()).start()
    assert WindowStore(tmp_path, FakeClock()).current().restarts == 0  # nothing written


def test_ack_and_silence_durations_use_the_windows_scale(tmp_path):
    """`--for 1h` on a window at 864x is 1 h of window time (4.17 s real)."""
    opened_at(tmp_path / "runtime", 864.0)
    cfg = load_config(overrides={"daemon": {"runtime_dir": str(tmp_path / "runtime")}})
    assert alerts_cli._real(cfg, H) == pytest.approx(H / 864)


def test_run_with_another_time_scale_exits_78_naming_both(seed_tree, tmp_path):
    """`burnin run --time-scale 1` on a window opened at 864x: exit 78, both scales named."""
    opened_at(tmp_path / "runtime", 864.0)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "daemon", "run", "--root", str(seed_tree),
                           "--time-scale", "1"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 78
    assert "864" in proc.stderr and "time scale 1 refused" in proc.stderr
    assert "--new-window" in proc.stderr
