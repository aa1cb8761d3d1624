"""Alert tiers and finding kinds: the words every layer uses (re-exported by `daemon.model`)."""

from __future__ import annotations

import enum


class Severity(enum.IntEnum):
    """Alert tiers of SPEC §4, ordered so that `max()` gives the worst."""

    INFO = 0
    MEDIUM = 1
    HIGH = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]

    def __str__(self) -> str:
        return self.name


class Kind(enum.StrEnum):
    """A condition stays firing while seen; an event is notified once."""

    CONDITION = "condition"
    EVENT = "event"
