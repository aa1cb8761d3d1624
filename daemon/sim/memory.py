"""A worker phase whose resident memory grows at a set rate (MB per real minute), bounded."""

from __future__ import annotations

from dataclasses import dataclass, field

MB = 1 << 20


@dataclass
class MemoryPhase:
    start: float = 0.0
    until: float = 0.0
    mb_per_real_min: float = 0.0
    max_mb: float = 0.0
    chunks: list[bytes] = field(default_factory=list)

    def begin(self, now: float, until: float, mb_per_real_min: float, max_mb: float) -> None:
        self.start, self.until = now, until
        self.mb_per_real_min, self.max_mb = mb_per_real_min, max_mb

    def target_mb(self, now: float) -> int:
        """How many MB should be held at `now` (growth stops at `until` or `max_mb`)."""
        if self.mb_per_real_min <= 0 or now < self.start:
            return len(self.chunks)
        elapsed_min = (min(now, self.until) - self.start) / 60.0
        return int(min(self.max_mb, elapsed_min * self.mb_per_real_min))

    def tick(self, now: float) -> None:
        for _ in range(len(self.chunks), self.target_mb(now)):
            self.chunks.append(b"\xa5" * MB)  # written bytes: really resident

    @property
    def held_mb(self) -> int:
        return len(self.chunks)
