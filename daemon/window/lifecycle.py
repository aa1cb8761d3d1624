"""What the supervisor drives each tick: series, heartbeat, spot reports, the end and verdict.

No scheduler here: the supervisor calls `start` once, `on_tick` after each status update
(every health check at least, every second is fine), `record_run` after each check,
`should_end` to know when to stop, and `finish` at the end; then it sends
`notification(...)` on every channel and exits with the returned code (or calls `start(new=True)`
again when `window.on_end = "continue"`).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from daemon.channels.verdict import Reason, VerdictMessage
from daemon.clock import Clock, iso
from daemon.records import Episode, Figures
from daemon.report import reports_dir, write_reports
from daemon.window.clamp import clamped_limits
from daemon.window.series import Series
from daemon.window.state import Window
from daemon.window.store import WindowStore
from daemon.window.verdict import Thresholds, Verdict, decide

log = structlog.get_logger(__name__)
HOST_MAX_SPAN_S = 60.0  # a longer gap between two looks (down, stalled) is not counted


class WindowRunner:
    def __init__(self, runtime_dir: Path, clock: Clock, duration_s: float, time_scale: float,
                 spot_check_every_s: float, stop_on_red: bool = False,
                 thresholds: Thresholds | None = None,
                 cadences: dict[str, float] | None = None, cfg: Any = None,
                 scale_given: bool = True) -> None:
        self.runtime_dir = Path(runtime_dir)
        self.clock = clock
        self.store = WindowStore(self.runtime_dir, clock)
        self.duration_s, self.time_scale = duration_s, time_scale
        self.spot_every_s = spot_check_every_s
        self.stop_on_red = stop_on_red
        self.thresholds = thresholds or Thresholds()
        self.cadences = dict(cadences or {})
        self.cfg = cfg  # the loaded Config (for the limits floored at the window's scale)
        self.scale_given = scale_given  # False: the config did not say; a window keeps its own
        th = getattr(cfg, "thresholds", None)
        self.sample_floor_s = float(getattr(th, "sample_for_min", 30.0))
        self.window: Window | None = None
        self.series: Series | None = None
        self.last_verdict: Verdict | None = None

    @classmethod
    def from_config(cls, cfg: Any, runtime_dir: Path, clock: Clock) -> WindowRunner:
        """From a loaded `Config` (window, thresholds and schedule sections)."""
        w = cfg.window
        cadences = {k: float(getattr(cfg.schedule, k)) for k in ("health", "position",
                                                                "integrity")}
        return cls(runtime_dir, clock, w.duration, w.time_scale, w.spot_check_every,
                   w.stop_on_red, Thresholds.from_config(cfg.thresholds), cadences, cfg,
                   scale_given="time_scale" in w.model_fields_set)

    def start(self, new: bool = False) -> Window:
        """Open (or resume) the window and its series; count checks missed while down.

        The window owns the time scale: a resumed window keeps its own (another scale given
        explicitly is refused with TimeScaleError), a new one takes the given scale (or the
        clock's, when none was given), and the clock is set to it — so cadences, deadlines,
        the alert policy and reports all run at the window's scale."""
        scale = self.time_scale if self.scale_given else self.clock.scale
        window = self.window = self.store.open(self.duration_s, scale, new=new,
                                               scale_given=self.scale_given,
                                               source=getattr(self.cfg, "source", "<defaults>"))
        self.clock.scale = window.time_scale
        named = getattr(getattr(self.cfg, "system", None), "host", "")
        window.host.host = window.host.host or named or socket.gethostname()
        self._note_clamped(window)
        if window.last_gap is not None:
            self._count_missed(window, window.last_gap)
        self.series = Series(self.store.folder(window.id), self.clock)
        return window

    def _note_clamped(self, window: Window) -> None:
        """The limits floored at this window's scale: in status.json, the report, and logged
        once per window (again only if a new config floors other limits)."""
        if self.cfg is None:
            return
        found = clamped_limits(self.cfg, window.time_scale)
        if found != window.clamped:
            window.clamped = found
            window.save()
            for entry in found:
                log.warning("window.clamped", window_id=window.id, key=entry.key,
                            floor_s=entry.floor_s, text=entry.text)

    def _count_missed(self, window: Window, gap: dict[str, float]) -> None:
        nominal = (gap["to"] - gap["from"]) * window.time_scale
        for check, cadence_s in self.cadences.items():
            if cadence_s > 0:
                window.add_missed(check, math.floor(nominal / cadence_s + 1e-6))
        window.save()

    def record_run(self, check: str, now: float, ok: bool, missed: int = 0) -> None:
        self._win().record_run(check, now, ok, missed)

    def on_tick(self, now: float, figures: Figures,
                fired: Sequence[Episode] | None = None) -> dict[str, Path] | None:
        """Record figures and a heartbeat; write a spot report when one is due (its paths)."""
        window = self._win()
        self._ser().add(now, figures.metrics, figures.counts, figures.daemon)
        window.host.add(now, _saturated(figures.metrics), HOST_MAX_SPAN_S, self.sample_floor_s)
        window.heartbeat(now)
        due = self.spot_due(now)
        if due is None:
            return None
        return self._spot(now, due, figures, fired)

    def spot_due(self, now: float) -> int | None:
        """The number of the spot report due at `now`, if any (none at or after the end)."""
        window = self._win()
        if self.spot_every_s <= 0 or window.ended(now):
            return None
        n = math.floor(window.elapsed_s(now) / self.spot_every_s + 1e-6)
        return n if n > window.spots_written else None

    def _spot(self, now: float, n: int, figures: Figures,
              fired: Sequence[Episode] | None) -> dict[str, Path]:
        window = self._win()
        alerts = fired if fired is not None else figures.open
        verdict = self.verdict(now, alerts, figures)
        self._ser().save()
        window.heartbeat_at = now
        paths = write_reports(reports_dir(self.runtime_dir, window.id), "spot", n, window,
                              verdict, self._ser().points(), alerts, figures,
                              self.thresholds)
        window.spots_written = n
        window.save()
        log.info("window.spot_report", window_id=window.id, n=n, verdict=verdict.color)
        return paths

    def verdict(self, now: float, fired: Sequence[Episode], figures: Figures) -> Verdict:
        """The verdict if the window ended now."""
        window = self._win()
        return decide(fired, window.coverage(now), figures.metrics, self.thresholds,
                      window.time_scale, window.host_load())

    def should_end(self, now: float, verdict_so_far: str = "GREEN") -> bool:
        """True at the window's end, or at the first RED with `stop_on_red`."""
        return self._win().ended(now) or (self.stop_on_red and verdict_so_far == "RED")

    def finish(self, now: float, fired: Sequence[Episode],
               figures: Figures) -> tuple[str, int, Path]:
        """Close the window, write the final reports: (verdict, exit code, report folder).
        On a full or read-only disk it writes what it can: a failed write is logged, and the
        verdict (and its exit code) stands (SPEC §5)."""
        window = self._win()
        verdict = self.verdict(now, fired, figures)
        _attempt("window", lambda: window.finish(now, verdict.color))  # saved last
        _attempt("series", self._ser().save)
        folder = reports_dir(self.runtime_dir, window.id)
        _attempt("report", lambda: write_reports(
            folder, "final", None, window, verdict, self._ser().points(), fired, figures,
            self.thresholds))
        log.info("window.finished", window_id=window.id, verdict=verdict.color,
                 phase=window.phase, report=str(folder))
        self.last_verdict = verdict
        return verdict.color, verdict.exit_code, folder

    def close(self) -> None:
        """Persist everything (clean shutdown: SIGTERM/SIGINT)."""
        if self.window is not None:
            self.window.heartbeat_at = max(self.window.heartbeat_at, self.clock.time())
            _attempt("window", self.window.save)
        if self.series is not None:
            _attempt("series", self.series.save)

    def _ser(self) -> Series:
        if self.series is None:
            raise RuntimeError("WindowRunner.start() was not called")
        return self.series

    def _win(self) -> Window:
        if self.window is None:
            raise RuntimeError("WindowRunner.start() was not called")
        return self.window


def _attempt(what: str, write: Callable[[], object]) -> bool:
    """One of the window's own writes at its end or at shutdown: a full or read-only disk is
    logged, never raised (the verdict and its notification must not depend on it)."""
    try:
        write()
    except OSError as exc:
        log.error("window.write_failed", what=what, error=repr(exc))
        return False
    return True


def _saturated(metrics: Mapping[str, Any]) -> list[str] | None:
    """The host rule's saturated resources in status.json's metrics (None: no look)."""
    host = metrics.get("host")
    found = host.get("saturated") if isinstance(host, dict) else None
    return [str(r) for r in found] if isinstance(found, list) else None


def notification(window: Window, verdict: Verdict, report_dir: Path) -> VerdictMessage:
    """The verdict notification for every channel (system and host are the engine's)."""
    return VerdictMessage(
        color=verdict.color, label=verdict.label, exit_code=verdict.exit_code,
        window_id=window.id, system="", host="", coverage=verdict.coverage,
        finished_at=iso(window.finished_at) or "",
        reasons=tuple(Reason(r.severity, r.code, r.subject, r.message, dict(r.evidence))
                      for r in verdict.reasons),
        report=str(report_dir / "final.md"))
