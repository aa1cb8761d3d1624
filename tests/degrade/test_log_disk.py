"""Issue 18 item 1: a full or unwritable log folder never kills burnin (SPEC §5)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from daemon.checks.selflog import judge_log_sink
from daemon.logsetup import WatchedFile
from tests.degrade.conftest import Mount, burnin, fill, open_codes, remount, status, wait_for


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_full_log_disk_counts_keeps_and_later_writes_lines_in_order(tmpfs: Mount) -> None:
    """On a full tmpfs a log write neither raises nor tears; freed space gets every line."""
    folder = tmpfs("logs", size="64k")
    sink = WatchedFile(folder / "burnin.jsonl")
    sink.write('{"n": 0}')
    filler = fill(folder)
    for n in range(1, 11):
        sink.write(json.dumps({"n": n, "pad": "x" * 1000}))
    health = sink.health()
    assert health["log_write_failures"] >= 1 and health["log_lines_pending"] >= 1
    assert "No space left" in health["log_error"]
    written = [d["n"] for d in lines(folder / "burnin.jsonl")]  # whole lines only
    assert written == list(range(len(written))) and len(written) < 11
    filler.unlink()
    sink.retry()
    assert sink.health()["log_error"] is None and sink.health()["log_lines_pending"] == 0
    assert [d["n"] for d in lines(folder / "burnin.jsonl")] == list(range(11))
    sink.close()


def test_read_only_log_folder_after_rotation_is_retried(tmpfs: Mount) -> None:
    """Rotated away, then the folder turns read-only: counted; writable again: re-created."""
    folder = tmpfs("logs")
    sink = WatchedFile(folder / "burnin.jsonl")
    sink.write('{"n": 1}')
    (folder / "burnin.jsonl").rename(folder / "burnin.jsonl.1")
    sink.close()  # a tmpfs with a file open for writing refuses to turn read-only
    (folder / "burnin.jsonl.1").unlink()
    remount(folder, "ro")
    sink.write('{"n": 2}')
    assert "Read-only" in (sink.health()["log_error"] or "")
    remount(folder, "rw")
    sink.retry()
    assert sink.health()["log_error"] is None
    assert [d["n"] for d in lines(folder / "burnin.jsonl")] == [2]
    sink.close()


def test_retry_buffer_is_bounded_and_counts_what_it_drops(tmpfs: Mount) -> None:
    """While the folder refuses writes, memory stays bounded: the oldest lines are dropped."""
    folder = tmpfs("logs", ro=True)
    sink = WatchedFile(folder / "burnin.jsonl", keep=10)
    for n in range(25):
        sink.write(json.dumps({"n": n}))
    assert sink.health()["log_lines_pending"] == 10 and sink.health()["log_lines_dropped"] == 15


@pytest.mark.parametrize(("health", "codes"), [
    (None, []),
    ({"log_error": None, "log_write_failures": 3, "log_lines_pending": 0,
      "log_lines_dropped": 0}, []),
    ({"log_error": "logs/burnin.jsonl: No space left on device", "log_write_failures": 3,
      "log_lines_pending": 2, "log_lines_dropped": 0}, ["daemon.runtime_unwritable"]),
])
def test_judge_log_sink(health: dict | None, codes: list[str]) -> None:
    """Only a sink whose last write failed is a finding."""
    assert [f.code for f in judge_log_sink("logs", health)] == codes


def _config(tmp_path: Path, root: Path, logs: Path) -> Path:
    cfg = tmp_path / "burnin.toml"
    cfg.write_text(f"[system]\nroot = '{root}'\n[window]\ntime_scale = 3600\n"
                   f"[daemon]\nruntime_dir = '{tmp_path / 'runtime'}'\nlog_dir = '{logs}'\n")
    return cfg


@pytest.mark.slow
def test_daemon_survives_a_full_log_disk_and_reports_it(
        tmpfs: Mount, seed_tree: Path, tmp_path: Path) -> None:
    """A real tmpfs log folder filled by dd: the daemon keeps checking, alerting and writing
    status.json, raises daemon.runtime_unwritable for the log folder, resolves it when space
    returns, and stops cleanly on SIGTERM."""
    logs = tmpfs("logs", size="256k")
    runtime = tmp_path / "runtime"
    proc = burnin("run", "--config", str(_config(tmp_path, seed_tree, logs)), cwd=tmp_path)
    try:
        wait_for(lambda: status(runtime))
        filler = fill(logs)
        (seed_tree / "runtime/system_state.json").write_text('{"state": "RUNN')  # alert path
        wait_for(lambda: {"state.corrupt", "daemon.runtime_unwritable"} <= open_codes(runtime)
                 .keys())
        assert open_codes(runtime)["daemon.runtime_unwritable"] == [str(logs)]
        seq = status(runtime)["seq"]
        wait_for(lambda: status(runtime)["seq"] > seq + 3)
        assert proc.poll() is None
        assert status(runtime)["metrics"]["daemon"]["log_write_failures"] > 0
        filler.unlink()
        wait_for(lambda: "daemon.runtime_unwritable" not in open_codes(runtime), timeout=60)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=6)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert all({"timestamp", "level", "event"} <= d.keys() for d in lines(logs / "burnin.jsonl"))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["log_dir", "runtime_dir"])
def test_start_on_a_read_only_folder_is_one_line_and_exit_78(
        which: str, tmpfs: Mount, seed_tree: Path, tmp_path: Path) -> None:
    """A read-only runtime or log folder at start: one line naming the folder, exit 78."""
    ro = tmpfs("ro", ro=True)
    folders = {"runtime_dir": tmp_path / "runtime", "log_dir": tmp_path / "logs", which: ro}
    cfg = tmp_path / "burnin.toml"
    cfg.write_text(f"[system]\nroot = '{seed_tree}'\n[daemon]\n"
                   + "".join(f"{k} = '{v}'\n" for k, v in folders.items()))
    proc = burnin("run", "--config", str(cfg), cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 78
    assert err.count("\n") == 1 and str(ro) in err and f"daemon.{which}" in err, err
    assert "Traceback" not in err
