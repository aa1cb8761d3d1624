"""The host CPU reading kept between one-shot checks (daemon/sources/cpucache.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import psutil
import pytest

from daemon.sources import cpucache
from daemon.sources.host import first_reading

REPO = Path(__file__).resolve().parents[2]
Times = namedtuple("Times", "user system idle")
NOW, BOOT = 1_800_000_000.0, 1_799_990_000.0
CUR = Times(100.0, 50.0, 1000.0)


def test_round_trip(tmp_path: Path) -> None:
    where = tmp_path / "burnin" / "check-cpu.json"
    cpucache.save(where, Times(90.0, 45.0, 900.0), NOW - 60, BOOT)
    assert cpucache.load(where, NOW, BOOT, CUR) == (Times(90.0, 45.0, 900.0), 60.0)
    assert oct(where.parent.stat().st_mode & 0o777) == "0o700"


@pytest.mark.parametrize(("saved", "why"), [
    ({"boot": BOOT + 60, "at": NOW - 60, "times": {"user": 1, "system": 1, "idle": 1}},
     "another boot"),
    ({"boot": BOOT, "at": NOW - 301, "times": {"user": 1, "system": 1, "idle": 1}}, "too old"),
    ({"boot": BOOT, "at": NOW + 5, "times": {"user": 1, "system": 1, "idle": 1}}, "future"),
    ({"boot": BOOT, "at": NOW - 60, "times": {"user": 101, "system": 1, "idle": 1}},
     "counters above today's"),
    ({"boot": BOOT, "at": NOW - 60, "times": {"user": 1, "system": 1}}, "a field missing"),
    ({"boot": BOOT, "at": NOW - 60, "times": {"user": "x", "system": 1, "idle": 1}},
     "not a number"),
    ({"boot": BOOT, "at": NOW - 60, "times": {"user": float("nan"), "system": 1, "idle": 1}},
     "not finite"),
    ([1, 2], "not an object"),
])
def test_unusable_readings_are_not_used(tmp_path: Path, saved: object, why: str) -> None:
    where = tmp_path / "check-cpu.json"
    where.write_text(json.dumps(saved))
    assert cpucache.load(where, NOW, BOOT, CUR) is None, why


def test_garbage_missing_and_nowhere(tmp_path: Path) -> None:
    where = tmp_path / "check-cpu.json"
    assert cpucache.load(where, NOW, BOOT, CUR) is None  # absent
    where.write_bytes(b"\xff{not json")
    assert cpucache.load(where, NOW, BOOT, CUR) is None
    assert cpucache.load(None, NOW, BOOT, CUR) is None
    cpucache.save(None, CUR, NOW, BOOT)  # nowhere to keep it: nothing happens


def test_a_failed_save_is_harmless(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    cpucache.save(blocker / "burnin" / "check-cpu.json", CUR, NOW, BOOT)  # no raise
    assert blocker.read_text() == "in the way"


@pytest.mark.parametrize(("env", "expected"), [
    ({"BURNIN_CPU_CACHE": ""}, None),
    ({"BURNIN_CPU_CACHE": "/x/y.json"}, Path("/x/y.json")),
    ({"XDG_RUNTIME_DIR": "/run/user/7"}, Path("/run/user/7/burnin/check-cpu.json")),
])
def test_where_it_is_kept(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                          expected: Path | None) -> None:
    monkeypatch.delenv("BURNIN_CPU_CACHE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert cpucache.path() == expected


def test_first_reading_uses_the_kept_counters(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept reading 30 s old starts the sample 30 s ago, with none of this process's CPU
    counted before it (own_s 0: all of it is burnin's own)."""
    where = tmp_path / "check-cpu.json"
    monkeypatch.setenv("BURNIN_CPU_CACHE", str(where))
    kept = psutil.cpu_times()
    cpucache.save(where, kept, time.time() - 30, psutil.boot_time())
    first = first_reading(time)
    assert tuple(first.times) == tuple(kept) and first.own_s == 0.0
    assert time.monotonic() - first.at == pytest.approx(30, abs=2)


def test_consecutive_checks_measure_between_runs(seed_tree: Path, tmp_path: Path) -> None:
    """`burnin check` twice as processes: the first samples over its own run and keeps its
    last reading; the second measures host CPU from that reading (a span that includes the
    pause between the runs) without waiting."""
    where = tmp_path / "cache" / "check-cpu.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "BURNIN_CPU_CACHE": str(where)}
    cmd = [sys.executable, "-m", "daemon", "check", "--root", str(seed_tree), "--format", "json",
           "--only", "health"]

    def host() -> dict:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode in (0, 1), done.stderr  # 1: a busy test host may be > 80 %
        return json.loads(done.stdout)["metrics"]["host"]

    first = host()
    assert where.is_file() and first["cpu_sample_s"] < 1.5
    time.sleep(1.5)
    second = host()
    assert second["cpu_sample_s"] >= 1.5 and 0.0 <= second["cpu_percent"] <= 100.0
