"""A real `burnin run` process driven by real signals, for the lifecycle tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).parents[2]


def wait_for(pred: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met in time: {what}")


def write_config(path: Path, root: Path, hook_url: str, scale: float, extra: str = "") -> Path:
    """A config with one webhook (every severity) and fast job rescans."""
    path.write_text(
        f"[system]\nroot = '{root}'\nname = 'ledger'\n"
        f"[window]\ntime_scale = {scale}\n"
        "[schedule]\nhealth = '60s'\nposition = '600s'\nintegrity = '3600s'\n"
        "[jobs]\nrescan_every = '300ms'\n"
        "[alerts]\nretry_base = '50ms'\nretry_max = '200ms'\n"
        f"[[alerts.webhook]]\nurl = '{hook_url}'\nname = 'hook'\nmin_severity = 'INFO'\n"
        + extra)
    return path


class Burnin:
    """`burnin run --config cfg` in `work`; start, signal, kill, restart."""

    def __init__(self, cfg: Path, work: Path) -> None:
        self.cfg, self.work = cfg, work
        self.proc: subprocess.Popen[str] | None = None

    def _env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(REPO)}

    def start(self) -> Burnin:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--config", str(self.cfg)], cwd=self.work,
            env=self._env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        seq = (self.status() or {}).get("seq", 0) if self.status() else -1
        pid = self.proc.pid
        wait_for(lambda: (s := self.status()) and s.get("pid") == pid and s["seq"] != seq,
                 what="status.json of the new process")
        return self

    def cli(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "daemon", *args, "--config", str(self.cfg)],
                             cwd=self.work, env=self._env(), capture_output=True, text=True,
                             timeout=30, check=True)
        return out.stdout

    def status(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.work / "runtime/status.json").read_text())
        except (OSError, ValueError):
            return None

    def log_events(self) -> list[str]:
        path = self.work / "logs/burnin.jsonl"
        if not path.exists():
            return []
        out = []
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError, KeyError):
                out.append(json.loads(line)["event"])
        return out

    def reload(self, then: Callable[[], None] | None = None) -> None:
        """SIGHUP (then `then()` at once), and wait until the new session wrote a status."""
        assert self.proc is not None
        before = self.log_events().count("config_reloaded")
        self.proc.send_signal(signal.SIGHUP)
        if then is not None:
            then()
        wait_for(lambda: self.log_events().count("config_reloaded") > before, what="reload")
        seq = self.status()["seq"]  # type: ignore[index]
        wait_for(lambda: self.status()["seq"] > seq + 1, what="status after reload")  # type: ignore[index]

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def open_alert(self, code: str) -> dict[str, Any] | None:
        doc = self.status() or {}
        return next((a for a in doc.get("alerts", {}).get("open", []) if a["code"] == code),
                    None)
