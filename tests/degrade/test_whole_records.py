"""Issue 18 item 6: every JSONL line burnin writes is whole or absent (SPEC §5), under short
writes injected into os.write, a real RLIMIT_FSIZE and a real full tmpfs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from daemon.atomic import append_whole
from daemon.channels.alertlog import AlertLog
from daemon.channels.base import Message
from daemon.errors import RetryableDeliveryError
from daemon.logsetup import WatchedFile
from tests.degrade.conftest import REPO, Mount

REAL_WRITE = os.write


def alert(msg_id: str, pad: int = 100) -> Message:
    return Message(id=msg_id, type="alerts", system="t", created=0.0,
                   records=[{"schema": "burnin.alert/1", "code": "state.corrupt",
                             "message": "x" * pad}])


def parsed(path: Path) -> list[dict]:
    """Every line of `path` as JSON: a torn or glued line fails here."""
    data = path.read_bytes() if path.exists() else b""
    assert data == b"" or data.endswith(b"\n")
    return [json.loads(line) for line in data.splitlines()]


def test_short_writes_are_continued_until_the_record_is_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An os.write that takes at most 7 bytes per call still yields whole lines."""
    calls: list[int] = []

    def short(fd: int, data: bytes) -> int:
        calls.append(fd)
        return REAL_WRITE(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", short)
    log = WatchedFile(tmp_path / "burnin.jsonl")
    log.write('{"event": "one", "pad": "' + "y" * 100 + '"}')
    anyio.run(AlertLog(tmp_path / "alerts.jsonl").send, alert("n1"))
    log.write('{"event": "two"}')
    monkeypatch.undo()
    log.close()
    assert len(calls) > 30
    assert [d["event"] for d in parsed(tmp_path / "burnin.jsonl")] == ["one", "two"]
    assert [d["notification_id"] for d in parsed(tmp_path / "alerts.jsonl")] == ["n1"]


def test_a_write_failing_part_way_leaves_nothing_of_the_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """812 bytes written, then ENOSPC: the 812 bytes are cut off again, the retry is whole."""
    path = tmp_path / "alerts.jsonl"
    channel = AlertLog(path)
    anyio.run(channel.send, alert("n1"))
    state = {"calls": 0}

    def fail_after_812(fd: int, data: bytes) -> int:
        state["calls"] += 1
        if state["calls"] == 1:
            return REAL_WRITE(fd, bytes(data[:812]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", fail_after_812)
    with pytest.raises(RetryableDeliveryError):
        anyio.run(channel.send, alert("n2", pad=2000))
    monkeypatch.undo()
    assert [d["notification_id"] for d in parsed(path)] == ["n1"]
    anyio.run(channel.send, alert("n2", pad=2000))
    assert [d["notification_id"] for d in parsed(path)] == ["n1", "n2"]


def test_zero_byte_write_is_an_error_not_a_loop(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that makes no progress raises instead of spinning."""
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(OSError):
        append_whole(fd, b"abc\n")
    monkeypatch.undo()
    os.close(fd)
    assert (tmp_path / "f").read_bytes() == b""


_FSIZE_CHILD = """
import resource, signal, sys, anyio
from pathlib import Path
from daemon.channels.alertlog import AlertLog
from daemon.logsetup import WatchedFile
from tests.degrade.test_whole_records import alert
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
folder = Path(sys.argv[1])
log, channel, refused = WatchedFile(folder / "burnin.jsonl"), AlertLog(folder / "alerts.jsonl"), 0
for n in range(8):
    log.write('{"n": %d, "pad": "%s"}' % (n, "z" * 200))
    try:
        anyio.run(channel.send, alert(f"n{n}", pad=200))
    except Exception:
        refused += 1
print(refused, log.health()["log_write_failures"])
"""


def test_real_file_size_limit_cuts_no_line(tmp_path: Path) -> None:
    """Under a real RLIMIT_FSIZE the write that crosses it is short, then EFBIG: both files
    keep only whole lines, and the refusals are reported, not raised out of the logger."""
    result = subprocess.run([sys.executable, "-c", _FSIZE_CHILD, str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    refused, failures = map(int, result.stdout.split())
    assert refused > 0 and failures > 0
    assert [d["n"] for d in parsed(tmp_path / "burnin.jsonl")] == list(range(4))
    assert len(parsed(tmp_path / "alerts.jsonl")) == 8 - refused


def test_full_tmpfs_short_write_leaves_no_torn_alert_line(tmpfs: Mount) -> None:
    """A record bigger than the space left on a real tmpfs: short write, then ENOSPC, then the
    partial bytes are removed; the alert log still parses line by line."""
    folder = tmpfs("logs", size="64k")
    channel = AlertLog(folder / "alerts.jsonl")
    anyio.run(channel.send, alert("n1"))
    with pytest.raises(RetryableDeliveryError):
        anyio.run(channel.send, alert("big", pad=200_000))
    assert [d["notification_id"] for d in parsed(folder / "alerts.jsonl")] == ["n1"]
    anyio.run(channel.send, alert("n2"))
    assert [d["notification_id"] for d in parsed(folder / "alerts.jsonl")] == ["n1", "n2"]
