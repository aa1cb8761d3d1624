"""The real `burnin run` and `burnin check` processes on a temporary tree."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.procs import burnin, wait_for

REPO = Path(__file__).parents[2]


def status(cwd: Path) -> dict | None:
    try:
        return json.loads((cwd / "runtime/status.json").read_text())
    except (OSError, ValueError):
        return None


@pytest.fixture
def daemon(seed_tree: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    work = tmp_path / "work"
    work.mkdir()
    proc = burnin("run", "--root", str(seed_tree), "--time-scale", "3600", cwd=work)
    yield proc, work
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


@pytest.mark.slow
def test_run_writes_status_sees_corruption_and_stops_on_sigterm(
        daemon: tuple[subprocess.Popen[str], Path], seed_tree: Path) -> None:
    """status.json appears and advances, a torn state file shows up, SIGTERM exits 0 fast."""
    proc, work = daemon
    first = wait_for(lambda: status(work))
    assert first["schema"] == "burnin.status/1" and first["window"]["phase"] == "running"
    assert first["alerts"]["outbox"] == "sqlite"  # "memory" only while its disk refuses
    wait_for(lambda: (status(work) or {}).get("seq", 0) > first["seq"])
    (seed_tree / "runtime/system_state.json").write_text('{"state": "RUNN')
    wait_for(lambda: any(a["code"] == "state.corrupt"
                         for a in (status(work) or {}).get("alerts", {}).get("open", [])))
    assert "state.corrupt" in (work / "logs/alerts.jsonl").read_text()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=5)
    assert proc.returncode == 0
    assert status(work)["window"]["phase"] == "stopped"
    lines = (work / "logs/burnin.jsonl").read_text().splitlines()
    assert all({"timestamp", "level", "event"} <= json.loads(line).keys() for line in lines)


@pytest.mark.slow
def test_sighup_with_broken_config_keeps_running(seed_tree: Path, tmp_path: Path) -> None:
    """A bad new config is refused on SIGHUP and the daemon keeps running on the old one."""
    cfg = tmp_path / "burnin.toml"
    cfg.write_text(f"[system]\nroot = '{seed_tree}'\n[window]\ntime_scale = 3600\n")
    proc = burnin("run", "--config", str(cfg), cwd=tmp_path)
    try:
        wait_for(lambda: status(tmp_path))
        cfg.write_text("[system]\nroot = 5\nbogus = 1\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "config_reload_refused" in
                 (tmp_path / "logs/burnin.jsonl").read_text())
        seq = status(tmp_path)["seq"]
        wait_for(lambda: status(tmp_path)["seq"] > seq)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)
    assert proc.returncode == 0


@pytest.mark.slow
def test_second_instance_on_same_runtime_refuses(
        daemon: tuple[subprocess.Popen[str], Path], seed_tree: Path) -> None:
    """Two daemons never share a runtime folder."""
    _proc, work = daemon
    wait_for(lambda: status(work))
    second = burnin("run", "--root", str(seed_tree), cwd=work)
    _out, err = second.communicate(timeout=10)
    assert second.returncode == 75
    assert "another burnin daemon" in err


def run_check(root: Path, *extra: str) -> tuple[int, dict]:
    proc = burnin("check", "--root", str(root), "--format", "json", *extra, cwd=root.parent)
    out, _err = proc.communicate(timeout=30)
    return proc.returncode, (json.loads(out) if out.startswith("{") else {})


def test_check_healthy_tree_is_green(seed_tree: Path, tmp_path: Path) -> None:
    """A healthy seed tree: exit 0, verdict GREEN, no findings (the host rule is off: this
    2-core test machine is often busy, and a busy host is not the tree's fault)."""
    cfg = tmp_path / "no-host.toml"
    cfg.write_text('[checks]\ndisabled = ["host"]\n')
    code, doc = run_check(seed_tree, "--config", str(cfg))
    assert (code, doc["verdict"], doc["findings"]) == (0, "GREEN", [])
    assert doc["schema"] == "burnin.check/1"


def test_check_torn_state_is_red(seed_tree: Path) -> None:
    """A torn state file: exit 2 with state.corrupt CRITICAL."""
    (seed_tree / "runtime/system_state.json").write_text('{"state"')
    code, doc = run_check(seed_tree)
    assert code == 2 and doc["verdict"] == "RED"
    assert ("state.corrupt", "CRITICAL") in [(f["code"], f["severity"]) for f in doc["findings"]]


def test_check_missing_root_exits_3(tmp_path: Path) -> None:
    """A missing root cannot be checked: exit 3."""
    code, _ = run_check(tmp_path / "nope")
    assert code == 3


def test_check_bad_config_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    """A bad config is refused before anything is written."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[jobs]\nnope = 1\n")
    proc = burnin("check", "--config", str(cfg), cwd=tmp_path)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3 and "jobs.nope: unknown key" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_run_bad_config_exits_78_and_writes_nothing(tmp_path: Path) -> None:
    """`run` refuses a bad config with exit 78 and creates no folders."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[window]\nduration = 'forever'\n")
    proc = burnin("run", "--config", str(cfg), cwd=tmp_path)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 78 and "window.duration: bad duration" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


@pytest.mark.slow
def test_run_speaks_sd_notify_on_a_real_socket(seed_tree: Path, tmp_path: Path) -> None:
    """Under systemd: READY=1 after scheduling, WATCHDOG=1 pings, STATUS=, STOPPING=1."""
    import socket

    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.2)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NOTIFY_SOCKET": str(sock_path),
           "WATCHDOG_USEC": "400000"}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "run", "--root", str(seed_tree),
                             "--time-scale", "3600"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []

    def received(token: str) -> bool:
        with contextlib.suppress(TimeoutError):
            seen.extend(sock.recv(4096).decode().splitlines())
        return any(line.startswith(token) for line in seen)

    try:
        for token in ("READY=1", "STATUS=", "WATCHDOG=1"):
            wait_for(lambda t=token: received(t))
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: received("STOPPING=1"))
    finally:
        if not any(line.startswith("STOPPING=1") for line in seen):
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)
        sock.close()
    assert proc.returncode == 0


@pytest.mark.slow
def test_status_command_reads_the_running_daemon(
        daemon: tuple[subprocess.Popen[str], Path]) -> None:
    """`burnin status` exits 0 on a fresh status.json and prints the verdict."""
    _proc, work = daemon
    wait_for(lambda: status(work))
    for fmt in ("json", "text"):
        st = burnin("status", "--format", fmt, cwd=work)
        out, _ = st.communicate(timeout=30)
        assert st.returncode == 0
        assert "GREEN" in out


def test_check_dead_process_exits_2_with_process_down(seed_tree: Path, tmp_path: Path) -> None:
    """A [[process]] whose pidfile names a dead process: exit 2, process.down CRITICAL."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (seed_tree / "runtime/worker.pid").write_text(f"{child.pid}\n")
    cfg = tmp_path / "burnin.toml"
    cfg.write_text("[[process]]\nname = 'worker'\npidfile = 'runtime/worker.pid'\n")
    code, doc = run_check(seed_tree, "--config", str(cfg))
    assert code == 2
    assert ("process.down", "CRITICAL") in [(f["code"], f["severity"]) for f in doc["findings"]]


@pytest.mark.slow
def test_sigterm_stops_within_5s_even_with_a_read_stuck_on_a_fifo(
        seed_tree: Path, tmp_path: Path) -> None:
    """A journal that is a FIFO blocks its reader forever; SIGTERM still ends the daemon."""
    journal = seed_tree / "storage/events/credits.jsonl"
    journal.unlink()
    os.mkfifo(journal)
    proc = burnin("run", "--root", str(seed_tree), "--time-scale", "3600", cwd=tmp_path)
    try:
        wait_for(lambda: status(tmp_path))
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=6)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
