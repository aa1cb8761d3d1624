"""Limits that compression makes meaningless, floored and said (SPEC §4).

At a high time scale a configured duration can shrink below what it can mean: a check cadence
below `schedule.min_interval` (the scheduler never runs faster), a stale-claim or pending-job
limit below `jobs.settle` (what a real writer needs to finish a file). burnin then uses the
floor; `clamped_limits` lists each such limit once for status.json (`window.clamped`), the log
and the report. Pure: a config and a scale in, plain data out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from daemon.durations import format_duration
from daemon.numbers import number

CADENCES = ("health", "position", "integrity")
JOB_LIMITS = ("stale_claim_after", "pending_after")


def floored(nominal_s: float, scale: float, floor_s: float) -> float:
    """A scaled limit in real seconds, never below `floor_s` real seconds."""
    return max(nominal_s / scale, floor_s)


@dataclass(frozen=True, slots=True)
class Clamp:
    """One limit floored at the window's scale: its key, nominal and scaled value, the floor
    used (real seconds) and the key that sets it, and a sentence saying so."""

    key: str
    nominal_s: float
    scaled_s: float
    floor_s: float
    floor_key: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, doc: object) -> Clamp | None:
        """A stored entry (window.json), None when it is not a whole one."""
        if not isinstance(doc, Mapping):
            return None
        nums = [number(doc.get(k)) for k in ("nominal_s", "scaled_s", "floor_s")]
        texts = [doc.get(k) for k in ("key", "floor_key", "text")]
        if None in nums or not all(isinstance(t, str) for t in texts):
            return None
        (nominal, scaled, floor), (key, floor_key, text) = nums, texts
        return cls(key, nominal, scaled, floor, floor_key, text)  # type: ignore[arg-type]


def clamped_limits(cfg: Any, scale: float) -> list[Clamp]:
    """Every limit of `cfg` that `scale` shrinks below its floor, with the floor used."""
    sch, jobs = cfg.schedule, cfg.jobs
    rows = [(f"schedule.{name}", getattr(sch, name), sch.min_interval, "schedule.min_interval")
            for name in CADENCES]
    rows += [(f"jobs.{name}", getattr(jobs, name), jobs.settle, "jobs.settle")
             for name in JOB_LIMITS]
    return [_entry(key, nominal, scale, floor, why) for key, nominal, floor, why in rows
            if nominal / scale < floor]


def _entry(key: str, nominal_s: float, scale: float, floor_s: float, floor_key: str) -> Clamp:
    scaled = nominal_s / scale
    return Clamp(key, nominal_s, round(scaled, 6), floor_s, floor_key,
                 f"{format_duration(nominal_s)} at time scale {scale:g} is {scaled:.3g} s "
                 f"real; floored to {floor_s:g} s real ({floor_key})")
