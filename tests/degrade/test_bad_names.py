"""Issue 18 item 8: a file name that is not valid UTF-8 does not break the job watcher; the
file is judged under its escaped name (SPEC §5)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from daemon.sources.logtail import LineTail
from daemon.sources.regular import undecodable
from tests.degrade.conftest import burnin, status, wait_for

BAD = b"bad\xff.job.json"


def make(folder: Path, name: bytes, data: bytes = b"{}") -> None:
    fd = os.open(os.path.join(os.fsencode(folder), name), os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, data)
    os.close(fd)


def test_undecodable_escapes_only_bad_names() -> None:
    """Valid names pass; a surrogate-escaped name comes back with its byte as \\xff."""
    assert undecodable("ok.job.json") is None and undecodable("é.job.json") is None
    assert undecodable(os.fsdecode(BAD)) == "bad\\xff.job.json"


def test_log_tail_reports_a_bad_log_name(tmp_path: Path) -> None:
    """A log file whose name is not UTF-8 is an error under its escaped name, not followed."""
    make(tmp_path, b"app\xfe.log", b"ERROR x\n")
    tail = LineTail(tmp_path, ["*.log"], 1 << 16, from_start=True)
    lines: list[bytes] = []
    tail.scan(lines.append)
    assert lines == [] and list(tail.errors.values()) == ["file name is not valid UTF-8"]
    assert "app\\xfe.log" in next(iter(tail.errors))
    json.dumps(tail.errors).encode("utf-8")


def test_daemon_watcher_survives_a_bad_name_and_judges_it(
        seed_tree: Path, tmp_path: Path) -> None:
    """A non-UTF-8 job file created under the running daemon: no check_overrun, the watcher
    keeps watching, the file is counted (as text, escaped) and later jobs are still seen."""
    cfg = tmp_path / "burnin.toml"
    cfg.write_text(f"[system]\nroot = '{seed_tree}'\n[window]\ntime_scale = 60\n"
                   "[jobs]\nrescan_every = '1s'\n")
    proc = burnin("run", "--config", str(cfg), cwd=tmp_path)
    out, runtime = seed_tree / "data/webrelay_out", tmp_path / "runtime"
    job = b'{"created_at": "2026-01-01T00:00:00Z"}'
    try:
        wait_for(lambda: (status(runtime) or {}).get("metrics", {}).get("jobs"))
        make(out, BAD, job)
        wait_for(lambda: status(runtime)["metrics"]["jobs"].get("undecodable", 0) >= 1)
        wait_for(lambda: status(runtime)["metrics"]["jobs"]["pending"] == 1)
        make(out, b"j2.job.json", job)
        wait_for(lambda: status(runtime)["metrics"]["jobs"]["pending"] == 2)
        assert status(runtime)["metrics"]["jobs"]["watching"] is True
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    alerts = tmp_path / "logs/alerts.jsonl"
    records = [json.loads(line) for line in alerts.read_text().splitlines()] \
        if alerts.exists() else []
    assert not [r for r in records if r.get("code") == "daemon.check_overrun"]
    log = (tmp_path / "logs/burnin.jsonl").read_text()
    assert "jobs.watch_undecodable_name" in log
    assert "rule_serve_failed" not in log and "Traceback" not in err
