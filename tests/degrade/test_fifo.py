"""Issue 18 item 3: no read blocks burnin on a FIFO, a device or a socket (SPEC §5)."""

from __future__ import annotations

import os
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.checks.base import Env, Tick
from daemon.checks.state import StateRule
from daemon.clock import FakeClock
from daemon.config import load_config
from daemon.logsetup import get_logger
from daemon.sources.jsonl import iter_lines, last_complete_line
from daemon.sources.procs import read_pidfile
from daemon.sources.registry import SourceHub
from daemon.sources.regular import NotRegularFileError, open_regular, read_regular
from tests.degrade.conftest import burnin, open_codes, status, wait_for


def make_fifo(path: Path) -> Path:
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


def make_zero_device(path: Path) -> Path:
    """A real character device node (the one /dev/zero is): endless bytes when read."""
    if path.exists():
        path.unlink()
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        yield path


def test_regular_files_open_and_everything_else_is_refused_by_kind(
        tmp_path: Path, unix_socket: Path) -> None:
    """A FIFO, a device, a socket and a folder are refused at once, saying what they are."""
    (tmp_path / "plain").write_bytes(b"abc")
    assert read_regular(tmp_path / "plain") == b"abc"
    for path, word in [(make_fifo(tmp_path / "fifo"), "FIFO"),
                       (make_zero_device(tmp_path / "zero"), "character device"),
                       (unix_socket, "socket"), (tmp_path, "folder")]:
        with pytest.raises(NotRegularFileError, match=word):
            open_regular(path)


def test_line_readers_and_pidfiles_refuse_a_fifo(tmp_path: Path) -> None:
    """The JSONL readers and the pidfile reader raise or report instead of blocking."""
    fifo = make_fifo(tmp_path / "fifo")
    with pytest.raises(OSError, match="FIFO"):
        last_complete_line(fifo)
    with pytest.raises(OSError, match="FIFO"):
        list(iter_lines(fifo))
    pid, _, reason = read_pidfile(fifo)
    assert pid is None and "FIFO" in reason


@pytest.mark.anyio
@pytest.mark.parametrize("which", ["file", "transitions"])
async def test_state_rule_reports_a_fifo_as_unavailable(seed_tree: Path, which: str) -> None:
    """A FIFO as state file or transitions log is source.unavailable naming the FIFO."""
    cfg = load_config(None, root=str(seed_tree))
    rel = getattr(cfg.state, which)
    make_fifo(cfg.observed(rel))
    hub = SourceHub()
    env = Env(cfg=cfg, clock=FakeClock(), sources=hub, log=get_logger(), oneshot=True)
    hub.bind(env)
    found = await StateRule(env).run(Tick("health", 0.0))
    hub.close()
    assert [(f.code, f.subject) for f in found if f.code == "source.unavailable"] == [
        ("source.unavailable", rel)]
    assert "FIFO" in next(f.message for f in found if f.code == "source.unavailable")


def _hostile_tree(root: Path, tmp_path: Path) -> Path:
    """Every observed path a FIFO (a /dev/zero node for the log), and a config naming them."""
    for rel in ("runtime/system_state.json", "logs/state_transitions.jsonl",
                "storage/events/credits.jsonl", "runtime/balances.json", "runtime/worker.pid",
                "runtime/heartbeat", "data/webrelay_out/j1.job.json",
                "data/webrelay_in/j0.result.json"):
        make_fifo(root / rel)
    make_zero_device(root / "logs/app.log")
    (root / "data/failed_reports").rmdir()
    make_fifo(root / "data/failed_reports")
    cfg = tmp_path / "burnin.toml"
    cfg.write_text(f"[system]\nroot = '{root}'\n[window]\ntime_scale = 3600\n"
                   "[heartbeat]\npath = 'runtime/heartbeat'\n"
                   "[[process]]\nname = 'worker'\npidfile = 'runtime/worker.pid'\n"
                   f"[daemon]\nruntime_dir = '{tmp_path / 'runtime'}'\n"
                   f"log_dir = '{tmp_path / 'logs'}'\n")
    return cfg


@pytest.mark.slow
def test_daemon_with_a_fifo_in_every_observed_path_keeps_running_and_stops_on_sigterm(
        seed_tree: Path, tmp_path: Path) -> None:
    """FIFOs (and a device) everywhere: status.json keeps advancing, the state and log paths
    are source.unavailable with the reason, and SIGTERM ends the daemon within 5 s."""
    cfg = _hostile_tree(seed_tree, tmp_path)
    runtime = tmp_path / "runtime"
    proc = burnin("run", "--config", str(cfg), cwd=tmp_path)
    try:
        wait_for(lambda: status(runtime))
        expected = {"runtime/system_state.json", "logs/state_transitions.jsonl",
                    "storage/events/credits.jsonl", "runtime/worker.pid",
                    str(seed_tree / "logs/app.log"), "data/failed_reports"}
        wait_for(lambda: expected <= set(open_codes(runtime).get("source.unavailable", [])),
                 timeout=40)
        seq = status(runtime)["seq"]
        wait_for(lambda: status(runtime)["seq"] >= seq + 3)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=5)  # SPEC §7: stops within 5 s
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    reasons = " ".join(a["message"] for a in status(runtime)["alerts"]["open"])
    assert "FIFO" in reasons and "character device" in reasons
