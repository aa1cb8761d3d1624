"""The systemd unit (real systemd-analyze), the secrets file example and the logrotate snippet."""

from __future__ import annotations

import grp
import logging
import logging.handlers
import os
import pwd
import re
import subprocess
from pathlib import Path

from tests.conftest import require_binary

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "burnin.service"
ENV_EXAMPLE = REPO / "systemd" / "burnin.env.example"
LOGROTATE = REPO / "config" / "logrotate" / "burnin"
EXEC = "/opt/burnin/venv/bin/burnin"


def _directives(text: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit file; a key given several times keeps every value."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_unit_verifies(tmp_path: Path) -> None:
    """systemd-analyze verify accepts the unit (ExecStart pointed at a stub that exists)."""
    analyze = require_binary("systemd-analyze")
    stub = tmp_path / "burnin"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    unit = tmp_path / "burnin.service"
    unit.write_text(UNIT.read_text().replace(EXEC, str(stub)))
    result = _run(analyze, "verify", str(unit))
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_unit_exposure_is_at_most_1_5() -> None:
    """systemd-analyze security --offline=true scores the unit at 1.5 or better."""
    analyze = require_binary("systemd-analyze")
    result = _run(analyze, "security", "--offline=true", "--threshold=15", UNIT.name,
                  cwd=UNIT.parent)
    score = re.search(r"Overall exposure level for burnin\.service: ([0-9.]+)", result.stdout)
    assert result.returncode == 0 and score is not None, result.stdout + result.stderr
    assert float(score.group(1)) <= 1.5


def test_unit_is_notify_with_watchdog_and_verdict_exit_codes() -> None:
    """Type=notify, a watchdog, `run --service` (a verdict exits 0) and Restart=on-failure."""
    d = _directives(UNIT.read_text())
    assert d["Type"] == ["notify"] and d["NotifyAccess"] == ["main"]
    assert d["Restart"] == ["on-failure"] and "SuccessExitStatus" not in d
    assert d["WatchdogSec"] and d["ExecStart"][0].startswith(EXEC + " run --service")


def test_unit_runs_as_a_dedicated_user_with_secrets_file() -> None:
    """The unit runs as the burnin user and reads secrets from an environment file."""
    d = _directives(UNIT.read_text())
    assert d["User"] == ["burnin"] and d["Group"] == ["burnin"]
    assert d["EnvironmentFile"] == ["-/etc/burnin/burnin.env"]


def test_hardening_keeps_what_burnin_needs() -> None:
    """Hardening still lets burnin see other users' /proc entries and reach SMTP/webhooks."""
    d = _directives(UNIT.read_text())
    assert d["ProtectProc"] == ["default"] and d["ProcSubset"] == ["all"]
    assert "PrivateNetwork" not in d and "IPAddressDeny" not in d
    assert set(d["RestrictAddressFamilies"][0].split()) >= {"AF_UNIX", "AF_INET", "AF_INET6"}


def test_env_example_is_key_value_lines() -> None:
    """The environment file example holds only comments and KEY=value lines."""
    lines = [ln for ln in ENV_EXAMPLE.read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", ln) for ln in lines)


def _logrotate_conf(tmp_path: Path, log_dir: Path) -> Path:
    me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    text = LOGROTATE.read_text().replace("/var/log/burnin", str(log_dir))
    conf = tmp_path / "burnin.logrotate"
    conf.write_text(text.replace("su burnin burnin", f"su {me} {group}"))
    return conf


def test_logrotate_rotates_and_logger_reopens(tmp_path: Path) -> None:
    """After a real logrotate run, a WatchedFileHandler writes to a fresh burnin.jsonl."""
    logrotate = require_binary("logrotate")
    log_dir = tmp_path / "logs"
    log_dir.mkdir(mode=0o750)
    handler = logging.handlers.WatchedFileHandler(log_dir / "burnin.jsonl")
    logger = logging.Logger("burnin-rotate-test")
    logger.addHandler(handler)
    try:
        logger.error('{"event": "before"}')
        conf = _logrotate_conf(tmp_path, log_dir)
        result = _run(logrotate, "-f", "-s", str(tmp_path / "state"), str(conf))
        assert result.returncode == 0, result.stderr
        logger.error('{"event": "after"}')
    finally:
        handler.close()
    rotated = [p for p in log_dir.iterdir() if p.name != "burnin.jsonl"]
    assert (log_dir / "burnin.jsonl").read_text() == '{"event": "after"}\n'
    assert len(rotated) == 1 and rotated[0].read_text() == '{"event": "before"}\n'


def test_logrotate_snippet_does_not_copytruncate() -> None:
    """The snippet rotates by rename (no copytruncate), covering logs/*.jsonl."""
    text = "\n".join(ln for ln in LOGROTATE.read_text().splitlines()
                     if not ln.lstrip().startswith("#"))
    assert re.search(r"^\s*copytruncate\b", text, re.M) is None
    assert "/var/log/burnin/*.jsonl {" in text
