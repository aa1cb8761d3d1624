"""The burn-in window as data (SPEC §5): id, start, duration, time scale, coverage.

Times are real epoch seconds; `duration_s` is nominal (window) seconds, so the window ends at
`started_at + duration_s / time_scale` real time. Coverage is the share of the window (so far)
during which the daemon was up: every gap between the last heartbeat before a stop or kill and
the next start is recorded in `downtime`. Per-check runs (and misses) are counted in `checks`.
Loading tolerates nothing silently: a bad state file raises `WindowStateError`.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from daemon import atomic
from daemon.clock import iso
from daemon.numbers import required as _num
from daemon.window.clamp import Clamp

PHASES = ("running", "completed", "stopped")
SCHEMA = "burnin.window/1"


class WindowStateError(ValueError):
    """A persisted window state that cannot be used (bad JSON, wrong fields)."""


def new_id(now: float) -> str:
    """`w-20261121T091500Z-ab12`: the start time plus a random suffix."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"w-{stamp}-{secrets.token_hex(2)}"


@dataclass
class CheckRuns:
    """How often one check ran, failed and missed its slot in this window."""

    runs: int = 0
    failed: int = 0
    missed: int = 0
    last_run: float | None = None


@dataclass(frozen=True, slots=True)
class HostShare:
    """The share of a window the host was saturated (status.json `window.host_load`):
    `saturated_share` counting every look, `sustained_share` only spells that lasted the
    floor, `saturated_by` per resource; shares are None before the first look."""

    host: str = ""
    observed_s: float = 0.0
    saturated_s: float = 0.0
    saturated_share: float | None = None
    sustained_share: float | None = None
    saturated_by: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HostLoad:
    """How long (real seconds) the host was observed, and saturated per resource (SPEC §4).

    `saturated_s` holds raw time per resource and `any`, and `sustained`: time inside spells
    of saturation that lasted at least `floor_s` real seconds without a break (a 10-second
    busy blip is noise, as for the alerts; SPEC §4 "judged on real samples")."""

    observed_s: float = 0.0
    saturated_s: dict[str, float] = field(default_factory=dict)
    host: str = ""
    _mark: float | None = field(default=None, repr=False, compare=False)
    _spell_s: float = field(default=0.0, repr=False, compare=False)

    def add(self, now: float, saturated: list[str] | None, max_span_s: float,
            floor_s: float = 30.0) -> None:
        """The host's latest look at `now`: its saturated resources (None: no look yet).

        The span since the previous call is attributed to this look (a CPU figure is the mean
        over the interval before it); spans longer than `max_span_s` (the daemon was down or
        stalled) are not counted and break a spell."""
        mark, self._mark = self._mark, now
        if saturated is None or mark is None or not 0 < now - mark <= max_span_s:
            self._spell_s = 0.0
            return
        span = now - mark
        self.observed_s += span
        for name in (["any"] if saturated else []) + list(saturated):
            self.saturated_s[name] = self.saturated_s.get(name, 0.0) + span
        self._spell(span if saturated else 0.0, floor_s)

    def _spell(self, span: float, floor_s: float) -> None:
        before, self._spell_s = self._spell_s, (self._spell_s + span if span else 0.0)
        if self._spell_s >= floor_s:  # the whole spell counts once it has lasted the floor
            added = self._spell_s if before < floor_s else span
            self.saturated_s["sustained"] = self.saturated_s.get("sustained", 0.0) + added

    def share(self, span_s: float, name: str = "any") -> float | None:
        """Share (0..1) of `span_s` real seconds (the window's length) `name` was saturated;
        None before any look. Against the whole window, so that an interim verdict only
        grows: a busy first minute is not "100 % of the window"."""
        if self.observed_s <= 0 or span_s <= 0:
            return None
        return min(1.0, self.saturated_s.get(name, 0.0) / span_s)

    def summary(self, span_s: float) -> HostShare:
        return HostShare(
            host=self.host, observed_s=round(self.observed_s, 3),
            saturated_s=round(self.saturated_s.get("any", 0.0), 3),
            saturated_share=_round(self.share(span_s)),
            sustained_share=_round(self.share(span_s, "sustained")),
            saturated_by={k: _round(self.share(span_s, k)) for k in sorted(self.saturated_s)
                          if k not in ("any", "sustained")})

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "observed_s": self.observed_s,
                "saturated_s": dict(self.saturated_s)}

    @classmethod
    def from_dict(cls, doc: object) -> HostLoad:
        if not isinstance(doc, dict):
            return cls()
        sat = doc.get("saturated_s")
        return cls(observed_s=_num(doc.get("observed_s", 0.0)), host=str(doc.get("host", "")),
                   saturated_s={str(k): _num(v) for k, v in sat.items()}
                   if isinstance(sat, dict) else {})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@dataclass
class Window:
    id: str
    started_at: float
    duration_s: float
    time_scale: float
    phase: str = "running"
    heartbeat_at: float = 0.0
    downtime: list[dict[str, float]] = field(default_factory=list)
    checks: dict[str, CheckRuns] = field(default_factory=dict)
    restarts: int = 0
    spots_written: int = 0
    finished_at: float | None = None
    verdict: str | None = None
    host: HostLoad = field(default_factory=lambda: HostLoad())
    clamped: list[Clamp] = field(default_factory=list)
    path: Path | None = field(default=None, repr=False, compare=False)
    persist_every_s: float = field(default=2.0, repr=False, compare=False)
    last_gap: dict[str, float] | None = field(default=None, repr=False, compare=False)
    _saved_at: float = field(default=float("-inf"), init=False, repr=False, compare=False)

    @property
    def ends_at(self) -> float:
        return self.started_at + self.duration_s / self.time_scale

    def elapsed_s(self, now: float) -> float:
        """Nominal seconds of the window behind us at real time `now` (capped at the end)."""
        return (self._clip(now) - self.started_at) * self.time_scale

    def ended(self, now: float) -> bool:
        return now >= self.ends_at

    def downtime_s(self, now: float) -> float:
        """Real seconds of recorded downtime inside the window up to `now`."""
        upto = self._clip(now)
        total = 0.0
        for gap in self.downtime:
            lo, hi = max(gap["from"], self.started_at), min(gap["to"], upto)
            total += max(0.0, hi - lo)
        return total

    def coverage(self, now: float) -> float:
        """Share (0..1) of the window so far during which the daemon was up."""
        span = self._clip(now) - self.started_at
        if span <= 0:
            return 1.0
        return max(0.0, min(1.0, 1.0 - self.downtime_s(now) / span))

    def host_load(self) -> HostShare:
        """The host's saturated share of this window (for the verdict and status.json)."""
        return self.host.summary(self.duration_s / self.time_scale)

    def record_gap(self, since: float, now: float) -> None:
        """Record the daemon down from `since` to `now` (clipped to the window)."""
        lo, hi = max(since, self.started_at), min(now, self.ends_at)
        if hi > lo:
            self.last_gap = {"from": lo, "to": hi}
            self.downtime.append(self.last_gap)

    def record_run(self, check: str, now: float, ok: bool, missed: int = 0) -> None:
        runs = self.checks.setdefault(check, CheckRuns())
        runs.runs += 1
        runs.failed += 0 if ok else 1
        runs.missed += max(0, int(missed))
        runs.last_run = now

    def add_missed(self, check: str, missed: int) -> None:
        if missed > 0:
            self.checks.setdefault(check, CheckRuns()).missed += int(missed)

    def heartbeat(self, now: float) -> None:
        """The daemon is alive at `now`; persisted at most every `persist_every_s` real s."""
        self.heartbeat_at = max(self.heartbeat_at, now)
        if now - self._saved_at >= self.persist_every_s:
            self.save()
            self._saved_at = now

    def finish(self, now: float, verdict: str) -> None:
        """Close the window: `completed` at or after its end, else `stopped` (stop_on_red)."""
        self.heartbeat_at = max(self.heartbeat_at, now)
        self.phase = "completed" if self.ended(now) else "stopped"
        self.finished_at = min(now, self.ends_at)
        self.verdict = verdict
        self.save()

    def save(self) -> None:
        """Replace the persisted state atomically (a kill -9 leaves the old or the new)."""
        if self.path is not None:
            atomic.write_json(self.path, self.to_dict())

    def _clip(self, now: float) -> float:
        end = self.finished_at if self.finished_at is not None else self.ends_at
        return max(self.started_at, min(now, end))

    def status(self, now: float) -> dict[str, Any]:
        """The `window` object of status.json (SPEC §6)."""
        return {
            "id": self.id, "started_at": iso(self.started_at), "ends_at": iso(self.ends_at),
            "duration_s": self.duration_s, "elapsed_s": round(self.elapsed_s(now), 3),
            "time_scale": self.time_scale, "phase": self.phase,
            "coverage": round(self.coverage(now), 6),
            "clamped": [c.to_dict() for c in self.clamped],
            "host_load": self.host_load().to_dict(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "id": self.id, "started_at": self.started_at,
            "duration_s": self.duration_s, "time_scale": self.time_scale, "phase": self.phase,
            "heartbeat_at": self.heartbeat_at, "downtime": self.downtime,
            "checks": {k: vars(v) for k, v in self.checks.items()}, "restarts": self.restarts,
            "spots_written": self.spots_written, "finished_at": self.finished_at,
            "verdict": self.verdict, "host": self.host.to_dict(),
            "clamped": [c.to_dict() for c in self.clamped],
        }

    @classmethod
    def from_dict(cls, doc: object) -> Window:
        """A window from its persisted form; raises WindowStateError when unusable."""
        try:
            return _from_dict(doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise WindowStateError(f"bad window state: {exc}") from exc


def _from_dict(doc: object) -> Window:
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError("not a burnin.window/1 object")
    win = Window(
        id=str(doc["id"]), started_at=_num(doc["started_at"]),
        duration_s=_num(doc["duration_s"]), time_scale=_num(doc["time_scale"]),
        phase=str(doc["phase"]), heartbeat_at=_num(doc["heartbeat_at"]),
        downtime=[{"from": _num(g["from"]), "to": _num(g["to"])} for g in doc["downtime"]],
        checks={str(k): CheckRuns(**v) for k, v in doc["checks"].items()},
        restarts=int(doc["restarts"]), spots_written=int(doc["spots_written"]),
        finished_at=None if doc["finished_at"] is None else _num(doc["finished_at"]),
        verdict=doc["verdict"], host=HostLoad.from_dict(doc.get("host")),
        clamped=[c for c in map(Clamp.parse, _list(doc.get("clamped"))) if c is not None],
    )
    if win.phase not in PHASES or win.time_scale <= 0 or win.duration_s <= 0:
        raise ValueError(f"bad phase, scale or duration in {win.id}")
    return win


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
