"""`runtime/status.json` (SPEC §6): built from the supervisor's parts, replaced atomically."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon import __version__
from daemon.atomic import write_json
from daemon.clock import iso

STALE_AFTER_S = 60.0  # the daemon rewrites status.json at least every few seconds


@dataclass
class CheckState:
    """What status.json says about one check."""

    last_run: float | None = None
    next_run: float | None = None
    duration_ms: float | None = None
    ok: bool | None = None
    findings: int = 0
    runs: int = 0
    failures: int = 0
    missed: int = 0
    coalesced: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_run": iso(self.last_run), "next_run": iso(self.next_run),
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 1),
            "ok": self.ok, "findings": self.findings, "runs": self.runs,
            "failures": self.failures, "missed": self.missed, "coalesced": self.coalesced,
            "error": self.error,
        }


class StatusWriter:
    """Numbers each document (`seq`) and replaces the file atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seq = 0

    def write(self, doc: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        full = {"schema": "burnin.status/1", "seq": self.seq, "pid": os.getpid(),
                "version": __version__, **doc}
        write_json(self.path, full)
        return full


def build_status(now: float, *, system: str, host: str, started_at: float,
                 selfmon: dict[str, Any], window: dict[str, Any],
                 checks: dict[str, CheckState], alerts: dict[str, Any],
                 metrics: dict[str, Any], phase: str | None = None) -> dict[str, Any]:
    """The status document (SPEC §6) from the supervisor's parts; pure (no clock, no I/O).

    `phase` overrides the window's phase (`stopped`/`completed` in the last document);
    `alerts` is {"open", "counts", "recent"}; the verdict is added by the caller.
    """
    if phase is not None:
        window = {**window, "phase": phase}
    return {
        "system": system, "host": host,  # fleet labels (metrics)
        "updated_at": iso(now) or "",
        "daemon": {"started_at": iso(started_at) or "",
                   "uptime_s": round(now - started_at, 1), **selfmon},
        "window": window,
        "checks": {c: s.to_dict() for c, s in checks.items()},
        "alerts": alerts,
        "metrics": metrics,
    }
