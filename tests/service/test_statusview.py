"""The status view: render of status.json, freshness, and the live watch loop."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from daemon.atomic import write_json
from daemon.service.statusview import exit_code, load_status, render, watch
from tests.service.sample_status import NOW, sample_status

REPO = Path(__file__).resolve().parents[2]


def _text(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_summary_shows_verdict_checks_alerts_and_metrics() -> None:
    """The summary names the verdict, each check, each open alert and the queue depth."""
    out = _text(render(sample_status(), now=NOW))
    for expected in ("verdict YELLOW", "health", "position", "FAILED", "jobs.stale_claim",
                     "HIGH 2", "pending 3", "p95 480 ms", "process worker"):
        assert expected in out


def test_critical_alerts_are_listed_first() -> None:
    """Open alerts are ordered by severity, CRITICAL first."""
    status = sample_status()
    status["alerts"]["open"].append({"code": "ledger.drift", "severity": "CRITICAL"})
    out = _text(render(status, now=NOW))
    out = out[out.index("open alerts"):]
    assert out.index("ledger.drift") < out.index("jobs.stale_claim")


def test_stale_status_is_flagged() -> None:
    """A status older than the stale limit is marked STALE."""
    assert "STALE" in _text(render(sample_status(), now=NOW + 3600))
    assert "STALE" not in _text(render(sample_status(), now=NOW))


@pytest.mark.parametrize("status", [{}, {"verdict": 1, "checks": [], "alerts": {"open": "x"},
                                         "window": {"elapsed_s": "a", "duration_s": 0},
                                         "metrics": {"processes": {"p": None}}}])
def test_garbled_status_renders(status: dict[str, Any]) -> None:
    """Missing or ill-typed fields render as placeholders, never raise."""
    assert "burnin status" in _text(render(status, now=NOW))


def test_missing_status_explains_why(tmp_path: Path) -> None:
    """A missing status.json renders the reason instead of a summary."""
    status, problem = load_status(tmp_path / "status.json")
    assert status is None and "does not exist" in _text(render(status, now=NOW, problem=problem))


@pytest.mark.parametrize(("content", "reason"), [(b"{not json", "not valid JSON"),
                                                 (b"[1, 2]", "not a JSON object")])
def test_bad_status_file_is_reported(tmp_path: Path, content: bytes, reason: str) -> None:
    """A corrupt status.json is a clear message, not a crash."""
    path = tmp_path / "status.json"
    path.write_bytes(content)
    assert reason in (load_status(path)[1] or "")


@pytest.mark.parametrize(("now", "code"), [(NOW, 0), (NOW + 3600, 1)])
def test_exit_code_follows_freshness(now: float, code: int) -> None:
    """burnin status exits 0 when fresh, 1 when stale."""
    assert exit_code(sample_status(), now) == code


def test_exit_code_is_1_without_status() -> None:
    """burnin status exits 1 when there is no status document."""
    assert exit_code(None, NOW) == 1


def test_watch_once_prints_one_frame(tmp_path: Path) -> None:
    """watch(once=True) prints the summary once and returns 0."""
    path = tmp_path / "status.json"
    write_json(path, sample_status())
    console = Console(file=io.StringIO(), width=160, color_system=None)
    assert watch(path, once=True, console=console, now=lambda: NOW) == 0
    assert "verdict YELLOW" in console.file.getvalue()  # type: ignore[attr-defined]


def test_watch_refreshes_until_ctrl_c(tmp_path: Path) -> None:
    """watch re-reads status.json every interval and exits 0 on Ctrl-C."""
    path = tmp_path / "status.json"
    write_json(path, sample_status())
    calls: list[float] = []

    def sleep(interval_s: float) -> None:
        calls.append(interval_s)
        if len(calls) == 2:
            raise KeyboardInterrupt
        write_json(path, {**sample_status(), "verdict": "RED"})

    console = Console(file=io.StringIO(), width=160, color_system=None, force_terminal=True)
    assert watch(path, console=console, sleep=sleep, now=lambda: NOW) == 0
    assert calls == [2.0, 2.0] and "verdict RED" in console.file.getvalue()  # type: ignore


WRITER = """
import sys
from pathlib import Path
from daemon.atomic import write_json
from tests.service.sample_status import sample_status
path = Path(sys.argv[1])
for seq in range(400):
    write_json(path, {**sample_status(), "seq": seq})
"""


def test_status_read_while_being_rewritten_is_whole(tmp_path: Path) -> None:
    """Reads while another process rewrites status.json atomically always get whole files."""
    path = tmp_path / "status.json"
    write_json(path, {**sample_status(), "seq": -1})
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=REPO)
    seen: list[int] = []
    try:
        while writer.poll() is None:
            status, problem = load_status(path)
            assert problem is None, problem
            seen.append(status["seq"])  # type: ignore[index]
    finally:
        writer.wait(30)
    assert writer.returncode == 0 and seen == sorted(seen)
    assert orjson.loads(path.read_bytes())["seq"] == 399


def red_with_no_open_alert() -> dict[str, Any]:
    """RED because a CRITICAL event fired; nothing open; one acked, one silenced earlier."""
    status = sample_status()
    status["verdict"] = "RED"
    status["alerts"] = {"open": [], "counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0,
                                                "INFO": 0}, "recent": [
        {"fingerprint": "aa11bb22cc33dd44", "code": "jobs.duplicate_processing",
         "severity": "CRITICAL", "kind": "event", "status": "firing", "subject": "job-17",
         "message": "job 17 processed twice", "last_seen": "2026-01-13T09:55:00Z"},
        {"fingerprint": "0123456789abcdef", "code": "jobs.stale_claim", "severity": "HIGH",
         "kind": "condition", "status": "resolved", "subject": "job-3", "acked": True,
         "message": "claimed too long", "resolved_at": "2026-01-13T09:50:00Z"},
        {"fingerprint": "fedcba9876543210", "code": "host.cpu_high", "severity": "MEDIUM",
         "kind": "condition", "status": "resolved", "subject": "host", "silenced": True,
         "silenced_before_fire": True, "message": "cpu", "resolved_at": "2026-01-13T09:40:00Z"},
    ]}
    status["metrics"]["host"] = {"cpu_percent": 5.0, "memory_percent": 40.0,
                                 "disks": {"/srv": 91.0, "/var": 40.25}}
    return status


def test_red_with_no_open_alert_is_explained_by_recent_events() -> None:
    """The recent list shows the CRITICAL event with its fingerprint and the marks."""
    out = _text(render(red_with_no_open_alert(), now=NOW))
    assert "verdict RED" in out and "recent events and resolved alerts" in out
    line = next(ln for ln in out.splitlines() if "aa11bb22cc33dd44" in ln)
    assert "CRITICAL" in line and "jobs.duplicate_processing" in line and "event" in line
    assert "RED because: CRITICAL jobs.duplicate_processing job-17 (event)" in out
    acked = next(ln for ln in out.splitlines() if "0123456789abcdef" in ln)
    assert "ACKED" in acked and "resolved" in acked
    assert "SILENCED (expected)" in next(ln for ln in out.splitlines() if "fedcba98" in ln)


def test_open_alerts_show_fingerprint_and_marks() -> None:
    """Open alerts carry the fingerprint `burnin ack` takes, and ACKED / SILENCED marks."""
    status = sample_status()
    status["alerts"]["open"][0].update(fingerprint="3f9a0c1d2e4b5a69", acked=True)
    status["alerts"]["open"][1].update(silenced=True)
    lines = _text(render(status, now=NOW)).splitlines()
    assert "ACKED" in next(ln for ln in lines if "3f9a0c1d2e4b5a69" in ln)
    assert "SILENCED" in next(ln for ln in lines if "x.claimed" in ln and "f2" in ln)
    assert "recent events and resolved alerts (this window, newest first): none" in \
        "\n".join(lines)


def test_disk_column_shows_the_real_disks() -> None:
    """The host row shows each watched disk's fullness (the daemon's `disks` map)."""
    out = _text(render(red_with_no_open_alert(), now=NOW))
    assert "disk 91.0% /srv  40.2% /var" in out


@pytest.mark.parametrize(("verdict", "alerts", "why"), [
    ("GREEN", {}, ""),
    ("RED", {"recent": [{"severity": "CRITICAL", "code": "journal.corrupt_line",
                         "subject": "credits.jsonl", "kind": "event"}]},
     "RED because: CRITICAL journal.corrupt_line credits.jsonl (event)"),
    ("YELLOW", {"open": [{"severity": "HIGH", "code": "jobs.stale_claim", "subject": "j1"}],
                "recent": [{"severity": "HIGH", "code": "x", "subject": "s",
                            "silenced_before_fire": True}]},
     "YELLOW because: HIGH jobs.stale_claim j1"),
    ("YELLOW", {}, "YELLOW because: see `burnin report` (coverage, host load or earlier "
                   "alerts)"),
    ("YELLOW", {"open": [{"severity": "HIGH", "code": "daemon.delivery_failing"}]},
     "YELLOW because: see `burnin report` (coverage, host load or earlier alerts)"),
    ("RED", {"open": [{"severity": "CRITICAL", "code": f"c{i}", "subject": "s"}
                      for i in range(5)]},
     "RED because: CRITICAL c0 s; CRITICAL c1 s; CRITICAL c2 s and 2 more"),
])
def test_why_line_table(verdict, alerts, why) -> None:
    """The header says which alerts make the verdict RED or YELLOW."""
    from daemon.service.statusview import why_text
    assert why_text({"verdict": verdict, "alerts": alerts}) == why
