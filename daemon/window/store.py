"""Where windows live: `runtime/windows/<id>/window.json` plus a `runtime/current_window` pointer.

`open` resumes the current window after a restart or a kill -9 (recording the gap since its
last heartbeat as downtime), or starts a new one when asked, when there is none, or when the
current one has completed or stopped. Both files are replaced atomically.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import structlog

from daemon import atomic
from daemon.clock import Clock, SystemClock
from daemon.errors import ConfigError
from daemon.window.state import Window, WindowStateError, new_id

log = structlog.get_logger(__name__)

POINTER = "current_window"
STATE = "window.json"


class WindowStore:
    def __init__(self, runtime_dir: Path, clock: Clock) -> None:
        self.runtime_dir = Path(runtime_dir)
        self.clock = clock

    @property
    def windows_dir(self) -> Path:
        return self.runtime_dir / "windows"

    def folder(self, window_id: str) -> Path:
        return self.windows_dir / _safe_id(window_id)

    def open(self, duration_s: float, time_scale: float, new: bool = False,
             scale_given: bool = False, source: str = "<defaults>") -> Window:
        """The window to run now: the resumed current one, or a new one.

        A resumed window keeps the scale it was opened with (SPEC §4); a scale given
        explicitly (`--time-scale`, or written in the config) that differs is refused with
        `TimeScaleError` (exit 78) before anything is written."""
        now = self.clock.time()
        current = None if new else self.current()
        if current is not None and current.phase == "running":
            check_scale(current, time_scale, scale_given, source)
            return self._resume(current, now)
        return self._create(now, duration_s, time_scale)

    def current(self) -> Window | None:
        """The window the pointer names, or None (no pointer, or an unusable state: logged)."""
        try:
            window_id = (self.runtime_dir / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        try:
            return self.load(window_id)
        except (OSError, WindowStateError) as exc:
            log.warning("window.state_unusable", window_id=window_id, error=str(exc))
            return None

    def load(self, window_id: str) -> Window:
        """A stored window by id; raises WindowStateError or OSError."""
        path = self.folder(window_id) / STATE
        try:
            doc = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise WindowStateError(f"{path}: not JSON: {exc}") from exc
        window = Window.from_dict(doc)
        window.path = path
        return window

    def ids(self) -> list[str]:
        """Ids of every stored window, oldest first (ids start with their start time)."""
        if not self.windows_dir.is_dir():
            return []
        return sorted(p.name for p in self.windows_dir.iterdir() if (p / STATE).is_file())

    def _resume(self, window: Window, now: float) -> Window:
        gap_s = now - window.heartbeat_at
        window.record_gap(window.heartbeat_at, now)
        window.restarts += 1
        window.heartbeat_at = max(window.heartbeat_at, now)
        window.save()
        log.info("window.resumed", window_id=window.id, gap_s=round(gap_s, 3))
        return window

    def _create(self, now: float, duration_s: float, time_scale: float) -> Window:
        if duration_s <= 0 or time_scale <= 0:
            raise ValueError("window duration and time scale must be > 0")
        window = Window(id=new_id(now), started_at=now, duration_s=float(duration_s),
                        time_scale=float(time_scale), heartbeat_at=now)
        window.path = self.folder(window.id) / STATE
        window.save()
        atomic.write_bytes(self.runtime_dir / POINTER, window.id.encode() + b"\n")
        log.info("window.started", window_id=window.id, duration_s=duration_s,
                 time_scale=time_scale)
        return window


class TimeScaleError(ConfigError):
    """`--time-scale` (or the config's) differs from the scale the running window owns."""


def check_scale(window: Window, time_scale: float, given: bool, source: str) -> None:
    """Refuse resuming `window` at another explicitly given scale."""
    if given and abs(window.time_scale - time_scale) > 1e-9 * window.time_scale:
        raise TimeScaleError(
            source, "window.time_scale",
            f"window {window.id} was opened at time scale {window.time_scale:g} and keeps it; "
            f"time scale {time_scale:g} refused (add --new-window to start a new window at "
            f"{time_scale:g}, or drop --time-scale to resume at {window.time_scale:g})")


def resume_scale(runtime_dir: Path, time_scale: float, given: bool, source: str,
                 new: bool = False) -> float:
    """The scale `burnin run` will run at: the running window's (refusing another given
    one), else `time_scale`. For the command line, before anything is written."""
    current = None if new else WindowStore(runtime_dir, SystemClock()).current()
    if current is None or current.phase != "running":
        return time_scale
    check_scale(current, time_scale, given, source)
    return current.time_scale


def window_scale(runtime_dir: Path, default: float) -> float:
    """The time scale of the current window (`ack --for`, `silence --for`), else `default`."""
    current = WindowStore(runtime_dir, SystemClock()).current()
    return current.time_scale if current is not None else default


def _safe_id(window_id: str) -> str:
    """A window id usable as one folder name (no separators, no `..`)."""
    text = window_id.strip()
    if not text or text in {".", ".."} or "/" in text or "\\" in text or "\0" in text:
        raise WindowStateError(f"bad window id {window_id!r}")
    return text
