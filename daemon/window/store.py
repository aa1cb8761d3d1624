"""Minimal window store of the spine (replaced by the full window unit): id, start, resume."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from daemon.atomic import write_json
from daemon.clock import Clock


@dataclass
class Window:
    id: str
    started_at: float
    duration_s: float
    time_scale: float
    phase: str = "running"
    downtime: list[dict[str, float]] = field(default_factory=list)
    last_heartbeat: float = 0.0
    verdict: str | None = None
    folder: Path | None = None

    @property
    def ends_at(self) -> float:
        return self.started_at + self.duration_s / self.time_scale

    def elapsed_s(self, now: float) -> float:
        return max(0.0, min(now, self.ends_at) - self.started_at) * self.time_scale

    def coverage(self, now: float) -> float:
        span = max(1e-9, min(now, self.ends_at) - self.started_at)
        down = sum(d["to"] - d["from"] for d in self.downtime)
        return max(0.0, 1.0 - down / span)

    def heartbeat(self, now: float) -> None:
        if now - self.last_heartbeat >= 2.0:
            self.last_heartbeat = now
            self.save()

    def record_run(self, check: str, now: float, ok: bool, missed: int = 0) -> None:
        return None

    def finish(self, now: float, verdict: str) -> None:
        self.phase, self.verdict = "completed", verdict
        self.save()

    def save(self) -> None:
        assert self.folder is not None
        data = {k: v for k, v in asdict(self).items() if k != "folder"}
        write_json(self.folder / "window.json", data)


class WindowStore:
    def __init__(self, runtime_dir: Path, clock: Clock) -> None:
        self.runtime_dir, self.clock = runtime_dir, clock

    def open(self, duration_s: float, time_scale: float, new: bool) -> Window:
        now = self.clock.time()
        current = None if new else self._load_current()
        if current is not None and current.phase == "running" and now < current.ends_at:
            if current.last_heartbeat and now - current.last_heartbeat > 5.0:
                current.downtime.append({"from": current.last_heartbeat, "to": now})
            current.last_heartbeat = now
            current.save()
            return current
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        win = Window(f"w-{stamp}-{secrets.token_hex(2)}", now, duration_s, time_scale,
                     last_heartbeat=now)
        win.folder = self.runtime_dir / "windows" / win.id
        win.save()
        write_json(self.runtime_dir / "current_window.json", {"id": win.id})
        return win

    def _load_current(self) -> Window | None:
        try:
            wid = orjson.loads((self.runtime_dir / "current_window.json").read_bytes())["id"]
            folder = self.runtime_dir / "windows" / wid
            data: dict[str, Any] = orjson.loads((folder / "window.json").read_bytes())
        except (OSError, ValueError, KeyError, TypeError):
            return None
        win = Window(**data)
        win.folder = folder
        return win
