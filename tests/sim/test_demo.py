"""The demo driver: config, children in their own groups, live view, summary, clean stops.

The real daemon is replaced by a stand-in (`standin_daemon.py`) that writes status.json and
exits with a chosen code; the reference system is the real one.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from rich.console import Console

from daemon.config import load_config
from daemon.sim.demo import DemoDir, config_text, new_folder, prepare, run_demo, stop

STANDIN = Path(__file__).with_name("standin_daemon.py")


def _standin(tmp_path: Path, code: int, seconds: float) -> list[str]:
    return [sys.executable, str(STANDIN), str(tmp_path / "standin.pid"), str(code), str(seconds)]


def _alive_with(text: str) -> list[psutil.Process]:
    """Live (non-zombie) processes whose command line mentions `text`."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if text in cmd and proc.info["status"] != psutil.STATUS_ZOMBIE and proc.pid != os.getpid():
            found.append(proc)
    return found


def _demo(tmp_path: Path, code: int = 2, seconds: float = 1.5) -> tuple[int, str]:
    out = io.StringIO()
    result = run_demo("72h", 864.0, "none", tmp_path / "demo", 5,
                      daemon_cmd=_standin(tmp_path, code, seconds),
                      console=Console(file=out, width=120), poll_s=0.1)
    return result, out.getvalue()


def test_demo_returns_the_daemon_exit_code(tmp_path: Path) -> None:
    """The demo's exit code is the daemon's (2 = RED here)."""
    code, _ = _demo(tmp_path, code=2)
    assert code == 2


def test_demo_prints_verdict_report_and_alert_log(tmp_path: Path) -> None:
    """The summary names the verdict, the final.html of the window and alerts.jsonl."""
    _, text = _demo(tmp_path, code=2)
    assert "verdict: RED" in text
    assert "reports/w-standin/final.html" in text.replace("\n", "")
    assert "alerts.jsonl" in text


def test_demo_stops_the_reference_system(tmp_path: Path) -> None:
    """When the daemon has exited, no reference-system process is left running."""
    _demo(tmp_path)
    assert _alive_with(str(tmp_path / "demo")) == []
    assert not (tmp_path / "demo/tree/runtime/worker.pid").exists()


def test_demo_runs_the_reference_system(tmp_path: Path) -> None:
    """While the daemon runs, the reference system produces and processes jobs."""
    _demo(tmp_path, seconds=3.0)
    assert list((tmp_path / "demo/tree/data/webrelay_in").glob("*.result.json"))


def test_demo_config_is_valid_for_burnin(tmp_path: Path) -> None:
    """The written burnin.toml loads with the strict config: root, window, worker pidfile."""
    demo = prepare(tmp_path / "demo")
    demo.config.write_text(config_text(demo, 72 * 3600.0, 864.0))
    cfg = load_config(demo.config)
    assert cfg.root == demo.tree.root and cfg.window.time_scale == 864.0
    assert cfg.window.duration == 72 * 3600.0
    assert cfg.process[0].pidfile == str(demo.tree.pidfile)
    assert cfg.runtime_dir == demo.runtime and cfg.log_dir == demo.logs


def test_demo_refuses_a_foreign_folder(tmp_path: Path) -> None:
    """A non-empty folder that is not a demo folder is refused and left untouched."""
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="is not empty"):
        run_demo("72h", 864.0, "none", tmp_path, 1)
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_demo_never_deletes_an_earlier_demo(tmp_path: Path) -> None:
    """A folder holding an earlier demo is refused and left as it was (its report kept)."""
    first = prepare(tmp_path / "demo")
    (first.tree.inbox / "old.result.json").write_text("{}")
    (first.base / "burnin.toml").write_text("")
    with pytest.raises(ValueError, match="holds an earlier demo"):
        prepare(tmp_path / "demo")
    assert (first.tree.inbox / "old.result.json").read_text() == "{}"


def test_each_default_demo_gets_its_own_printed_folder(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --dir, two demos run in two new folders under runtime/demo/, each printed."""
    monkeypatch.chdir(tmp_path)
    seen = []
    for _ in range(2):
        out = io.StringIO()
        run_demo("72h", 864.0, "none", None, 5, daemon_cmd=_standin(tmp_path, 0, 0.5),
                 console=Console(file=out, width=300), poll_s=0.1)
        seen.append(out.getvalue())
    folders = sorted((tmp_path / "runtime/demo").iterdir())
    assert len(folders) == 2 and all((f / "burnin.toml").is_file() for f in folders)
    for folder, text in zip(folders, seen, strict=True):
        assert f"folder:  {folder}" in text


def test_new_folder_names_never_collide(tmp_path: Path) -> None:
    """The same second twice: the second folder gets a -2 suffix."""
    first = new_folder(tmp_path, 1_800_000_000.0)
    first.mkdir()
    second = new_folder(tmp_path, 1_800_000_000.0)
    assert first.name == "20270115T080000Z" and second.name == "20270115T080000Z-2"


@pytest.mark.parametrize(("window", "scale", "faults"), [
    ("soon", 864.0, "none"), ("0s", 864.0, "none"), ("72h", 0.0, "none"),
    ("72h", 864.0, "chaos")])
def test_bad_demo_arguments_are_refused(tmp_path: Path, window: str, scale: float,
                                        faults: str) -> None:
    """A bad window, time scale or plan is a ValueError before anything is written."""
    with pytest.raises(ValueError):
        run_demo(window, scale, faults, tmp_path / "demo", 1)
    assert not (tmp_path / "demo").exists()


def test_stop_kills_a_group_that_ignores_sigterm(tmp_path: Path) -> None:
    """stop() sends SIGKILL when SIGTERM is ignored past the grace period."""
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    time.sleep(0.3)
    stop(proc, grace_s=0.5)
    assert proc.returncode == -signal.SIGKILL


def test_ctrl_c_leaves_nothing_running(tmp_path: Path) -> None:
    """SIGINT to the demo stops the daemon and the reference system; exit 130."""
    script = (f"import sys; from pathlib import Path; from daemon.sim.demo import run_demo; "
              f"sys.exit(run_demo('72h', 864.0, 'none', Path({str(tmp_path / 'demo')!r}), 3, "
              f"daemon_cmd={_standin(tmp_path, 0, -1)!r}, poll_s=0.1))")
    demo = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not (tmp_path / "demo/tree/runtime/worker.pid").exists() or \
            not (tmp_path / "standin.pid").exists():
        assert time.monotonic() < deadline and demo.poll() is None
        time.sleep(0.05)
    demo.send_signal(signal.SIGINT)
    assert demo.wait(timeout=15) == 130
    assert _alive_with(str(tmp_path)) == []


def test_demo_folder_layout(tmp_path: Path) -> None:
    """tree/, runtime/ and logs/ sit side by side under the demo folder."""
    demo = prepare(tmp_path / "demo")
    assert isinstance(demo, DemoDir)
    assert {p.name for p in demo.base.iterdir()} == {"tree", "runtime", "logs"}


def test_reference_system_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    """If the reference system dies before it is ready, wait_ready says so."""
    import asyncio

    from daemon.clock import SystemClock
    from daemon.sim.demo import wait_ready

    demo = prepare(tmp_path / "demo")
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    with pytest.raises(RuntimeError, match="exited with 3"):
        asyncio.run(wait_ready(dead, demo.tree, SystemClock()))
