"""Tailing logs across rename and copytruncate rotation, with bounded lines."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from daemon.sources.logtail import LineTail


class Lines(list):
    def __call__(self, raw: bytes) -> None:
        self.append(raw.decode())


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    (tmp_path / "logs").mkdir()
    return tmp_path / "logs"


def tail(root: Path, from_start: bool = False, max_line: int = 1024) -> LineTail:
    return LineTail(root, ["logs/*.log"], max_line, from_start)


def append(path: Path, text: str) -> None:
    with open(path, "a") as fh:
        fh.write(text)


def scan(t: LineTail) -> Lines:
    out = Lines()
    t.scan(out)
    return out


def test_appended_lines_read_once(logs: Path) -> None:
    """Each appended complete line is read exactly once across scans."""
    t = tail(logs.parent, from_start=True)
    append(logs / "app.log", "a\nb\n")
    assert scan(t) == ["a", "b"]
    append(logs / "app.log", "c\n")
    assert scan(t) == ["c"] and scan(t) == []


def test_daemon_starts_at_end_of_existing_files(logs: Path) -> None:
    """In the daemon, lines present at the first scan are skipped (their time is unknown)."""
    append(logs / "app.log", "old\n")
    t = tail(logs.parent)
    assert scan(t) == []
    append(logs / "app.log", "new\n")
    assert scan(t) == ["new"]


def test_file_created_later_read_from_start(logs: Path) -> None:
    """A log that appears after the first scan is read from its first byte."""
    t = tail(logs.parent)
    scan(t)
    append(logs / "late.log", "x\n")
    assert scan(t) == ["x"]


def test_partial_line_waits_for_newline(logs: Path) -> None:
    """A line without its newline yet is not emitted until it is complete."""
    t = tail(logs.parent, from_start=True)
    append(logs / "app.log", "par")
    assert scan(t) == []
    append(logs / "app.log", "tial\n")
    assert scan(t) == ["partial"]


def test_rotation_by_rename_loses_nothing(logs: Path) -> None:
    """Rename rotation mid-scan: the old file is drained (even late writes), the new read."""
    log = logs / "app.log"
    t = tail(logs.parent, from_start=True)
    writer = open(log, "a")  # noqa: SIM115 - the writer keeps its descriptor across rotation
    writer.write("a\n")
    writer.flush()
    assert scan(t) == ["a"]
    writer.write("b\n")
    writer.flush()
    os.rename(log, logs / "app.log.1")
    writer.write("c\n")  # written after the rename, before the writer reopens
    writer.flush()
    append(log, "d\n")
    assert sorted(scan(t)) == ["b", "c", "d"]
    writer.write("e\n")  # a very late write to the old file is still drained once
    writer.close()
    append(log, "f\n")
    assert sorted(scan(t)) == ["e", "f"]
    assert scan(t) == [] and t.stats.rotations == 1


def test_renamed_into_the_globs_not_read_twice(logs: Path) -> None:
    """A rotated name that still matches *.log (dateext) is recognised by inode."""
    log = logs / "app.log"
    t = tail(logs.parent, from_start=True)
    append(log, "a\n")
    scan(t)
    os.rename(log, logs / "app-20260101.log")
    append(log, "b\n")
    assert scan(t) == ["b"] and scan(t) == []


def test_copytruncate_loses_nothing(logs: Path) -> None:
    """copytruncate mid-scan: lines between the last scan and the copy come from the copy."""
    log = logs / "app.log"
    t = tail(logs.parent, from_start=True)
    append(log, "a\n")
    assert scan(t) == ["a"]
    append(log, "b\npart")
    shutil.copyfile(log, logs / "app.log.1")
    with open(log, "r+") as fh:
        fh.truncate(0)
    append(log, "c\n")
    assert scan(t) == ["b", "c"]
    assert t.stats.truncations == 1 and t.stats.unrecovered == 0


def test_copytruncate_regrown_past_offset_detected(logs: Path) -> None:
    """A truncated file that grew past the old offset is caught by its changed first bytes."""
    log = logs / "app.log"
    t = tail(logs.parent, from_start=True)
    append(log, "2026-01-01 first line\n")
    scan(t)
    shutil.copyfile(log, logs / "app.log.1")
    with open(log, "r+") as fh:
        fh.truncate(0)
    append(log, "2026-01-02 another, longer first line\nz\n")
    assert scan(t) == ["2026-01-02 another, longer first line", "z"]


def test_ten_megabyte_line_is_bounded(logs: Path) -> None:
    """A 10 MB line is emitted cut to max_line_bytes, once; the next line is intact."""
    log = logs / "app.log"
    with open(log, "wb") as fh:
        fh.write(b"ERROR " + b"x" * (10 * 1024 * 1024) + b"\nnext\n")
    t = tail(logs.parent, from_start=True, max_line=4096)
    out = scan(t)
    assert [len(x) for x in out] == [4096, 4] and out[0].startswith("ERROR ")
    assert t.stats.long_lines == 1
    assert all(len(c.carry) <= 4096 for c in t.cursors.values())


def test_resume_from_saved_state(logs: Path) -> None:
    """A new tail restored from state() continues where the old one stopped."""
    log = logs / "app.log"
    t = tail(logs.parent, from_start=True)
    append(log, "a\nhalf")
    scan(t)
    state = t.state()
    t.close()
    append(log, "-done\nb\n")
    t2 = tail(logs.parent)
    t2.restore(state)
    assert scan(t2) == ["half-done", "b"]


def test_garbage_saved_state_ignored(logs: Path) -> None:
    """Malformed saved state is ignored (daemon then starts at the end)."""
    append(logs / "app.log", "a\n")
    t = tail(logs.parent)
    t.restore({str(logs / "app.log"): {"ident": "x", "offset": "y", "head": "zz"}})
    assert scan(t) == []


class Writer:
    """An application appending numbered lines through an O_APPEND descriptor."""

    def __init__(self, log: Path) -> None:
        self.log, self.n = log, 0
        self.fh = open(log, "a")  # noqa: SIM115

    def write(self, k: int) -> None:
        for _ in range(k):
            self.fh.write(f"line {self.n}\n")
            self.n += 1
        self.fh.flush()

    def reopen(self) -> None:
        self.fh.close()
        self.fh = open(self.log, "a")  # noqa: SIM115


def shift(logs: Path) -> None:
    """What logrotate does first: app.log.1 becomes app.log.2."""
    if (logs / "app.log.1").exists():
        os.replace(logs / "app.log.1", logs / "app.log.2")


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_random_rotations_lose_and_repeat_nothing(logs: Path, seed: int) -> None:
    """Writes, rename and copytruncate rotations in random order: every line read exactly once.

    Each rotation follows a scan that saw the file non-empty (a line written to an empty log
    and rotated away before any scan cannot be noticed by any poller).
    """
    rng = random.Random(seed)
    log = logs / "app.log"
    writer, t, seen = Writer(log), tail(logs.parent, from_start=True), Lines()
    ready = written = False
    for _ in range(600):
        action = rng.choice(["write", "write", "scan", "rename", "copytruncate"])
        if action == "write":
            writer.write(rng.randint(1, 5))
            written = True
        elif action == "scan":
            t.scan(seen)
            ready = ready or written
        elif ready and action == "rename":
            shift(logs)
            os.rename(log, logs / "app.log.1")
            writer.write(rng.randint(0, 2))  # late lines to the old file, then reopen
            writer.reopen()
            ready = written = False
        elif ready and action == "copytruncate":
            shift(logs)
            shutil.copyfile(log, logs / "app.log.1")
            os.truncate(log, 0)
            ready = written = False
    t.scan(seen)
    t.scan(seen)
    writer.fh.close()
    t.close()
    assert t.stats.rotations > 5 and t.stats.truncations > 5
    assert sorted(seen, key=lambda s: int(s.split()[1])) == [f"line {i}" for i in range(writer.n)]


def test_root_with_glob_characters(tmp_path: Path) -> None:
    """A root whose name contains [ ] * is taken literally; only the patterns are globs."""
    root = tmp_path / "we[ird]*"
    (root / "logs").mkdir(parents=True)
    append(root / "logs/app.log", "x\n")
    assert scan(tail(root, from_start=True)) == ["x"]
