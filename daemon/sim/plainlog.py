"""Plain text logs of the reference system (`logs/*.log`, scanned by burnin)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daemon.clock import iso
from daemon.sim.files import append_line


@dataclass(frozen=True)
class PlainLog:
    path: Path

    def write(self, now: float, level: str, component: str, message: str) -> None:
        append_line(self.path, f"{iso(now)} {level} {component}: {message}".encode())

    def info(self, now: float, component: str, message: str) -> None:
        self.write(now, "INFO", component, message)

    def warning(self, now: float, component: str, message: str) -> None:
        self.write(now, "WARNING", component, message)
