"""Reports of a burn-in window under `runtime/reports/<window_id>/` (SPEC §5).

`write_reports` writes `final.json/.md/.html` or `spot-<n>.json/.md`; `render` renders any
stored window in any format for `burnin report`. A finished window renders from its
`final.json`; a running (or interrupted) one is rebuilt now as an INTERIM report: the alerts
fired so far come from the live alert store (`runtime/alerts.sqlite3`, opened read-only), the
figures from `runtime/status.json` when it belongs to that window, and the time series from
the window folder. The latest spot report (every 8 h) only fills in what those cannot give.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import orjson
import structlog

from daemon import atomic
from daemon.clock import SystemClock
from daemon.errors import BurninError
from daemon.records import Episode, Figures, episodes
from daemon.report import document
from daemon.window import series as series_mod
from daemon.window.state import Window, WindowStateError
from daemon.window.store import WindowStore
from daemon.window.verdict import Thresholds, Verdict, decide

FORMATS = ("md", "json", "html")
ALERT_STORE = "alerts.sqlite3"
STATUS_FILE = "status.json"

log = structlog.get_logger(__name__)


class ReportError(BurninError):
    """No such window, or nothing stored to render."""


def reports_dir(runtime_dir: Path, window_id: str) -> Path:
    return Path(runtime_dir) / "reports" / window_id


def write_reports(folder: Path, kind: Literal["final", "spot"], n: int | None, window: Window,
                  verdict: Verdict, series_points: list[dict], fired_alerts: Sequence[Episode],
                  figures: Figures,
                  thresholds: Thresholds | None = None) -> dict[str, Path]:
    """Write the report files of `kind`; returns {format: path}. HTML for `final` only."""
    now = window.finished_at if window.finished_at is not None else window.heartbeat_at
    doc = document.build(kind, n, window, verdict, series_points, fired_alerts, figures, now,
                         thresholds)
    stem = "final" if kind == "final" else f"spot-{n}"
    formats = FORMATS if kind == "final" else ("json", "md")
    paths = {}
    for fmt in formats:
        paths[fmt] = Path(folder) / f"{stem}.{fmt}"
        atomic.write_bytes(paths[fmt], to_bytes(doc, fmt))
    return paths


def to_bytes(doc: dict[str, Any], fmt: str) -> bytes:
    """A report document in `fmt` (md, json or html)."""
    if fmt == "json":
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE,
                            default=str)
    if fmt == "md":
        from daemon.report import markdown
        return markdown.render(doc).encode()
    if fmt == "html":
        from daemon.report import html
        return html.render(doc).encode()
    raise ReportError(f"unknown report format {fmt!r} (use md, json or html)")


def render(runtime_dir: Path, window_id: str | None, fmt: str,
           thresholds: Thresholds | None = None) -> bytes:
    """The report of a stored window (None = the current or latest one) in `fmt`."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r} (use md, json or html)")
    return to_bytes(load_document(Path(runtime_dir), window_id, thresholds), fmt)


def load_document(runtime_dir: Path, window_id: str | None,
                  thresholds: Thresholds | None = None) -> dict[str, Any]:
    """The report document of a window: its final one, or one rebuilt from its state now."""
    store = WindowStore(runtime_dir, SystemClock())
    wid = window_id or _default_id(store)
    try:
        window = store.load(wid)
    except (OSError, WindowStateError) as exc:
        raise ReportError(f"no stored window {wid!r} under {runtime_dir}: {exc}") from exc
    folder = reports_dir(runtime_dir, window.id)
    final = _read(folder / "final.json")
    if final is not None:
        return final
    latest = _latest_spot(folder) or {}
    return _rebuild(store, window, latest, thresholds)


def _rebuild(store: WindowStore, window: Window, latest: dict[str, Any],
             thresholds: Thresholds | None) -> dict[str, Any]:
    """The interim document of a window without a final report, as of its last heartbeat."""
    now = max(window.heartbeat_at, window.finished_at or 0.0)
    spot = latest.get("alerts")
    live, problem = live_alerts(store.runtime_dir / ALERT_STORE, window.id)
    fired = merge_alerts(live, episodes(spot) if isinstance(spot, list) else [])
    figures = Figures.parse(live_status(store.runtime_dir / STATUS_FILE, window.id) or {
        "metrics": latest.get("metrics") or {}, "system": latest.get("system") or ""})
    points = series_mod.load(store.folder(window.id) / series_mod.FILE)
    verdict = decide(fired, window.coverage(now), figures.metrics, thresholds,
                     window.time_scale, window.host_load())
    doc = document.build("current", None, window, verdict, points, fired, figures, now,
                         thresholds)
    doc["alert_source"] = problem or f"live alert store ({ALERT_STORE})"
    return doc


def live_alerts(path: Path, window_id: str) -> tuple[list[Episode], str | None]:
    """The window's fired alerts from the alert store (read-only), or [] and why not."""
    import sqlite3

    from daemon.alerts.store import read_episodes

    if not path.is_file():
        return [], f"no alert store at {path}: alerts from the latest spot report only"
    try:
        history = read_episodes(path, window_id)
    except (sqlite3.Error, orjson.JSONDecodeError, OSError) as exc:
        log.warning("report.alert_store_unreadable", path=str(path), error=str(exc))
        return [], f"alert store {path} unreadable ({exc}): alerts from the latest spot report"
    return history, None


def merge_alerts(*sources: Sequence[Episode]) -> list[Episode]:
    """Alerts of several sources, once each (same fingerprint and first_seen), first wins."""
    out: dict[tuple[str, str], Episode] = {}
    for alerts in sources:
        for a in alerts:
            out.setdefault((a.fingerprint, str(a.first_seen)), a)
    return list(out.values())


def live_status(path: Path, window_id: str) -> dict[str, Any] | None:
    """status.json when it describes `window_id` (its metrics are the latest), else None."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("window"), dict):
        return None
    return doc if doc["window"].get("id") == window_id else None


def _default_id(store: WindowStore) -> str:
    current = store.current()
    if current is not None:
        return current.id
    ids = store.ids()
    if not ids:
        raise ReportError(f"no burn-in window stored under {store.runtime_dir}")
    return ids[-1]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") == document.SCHEMA else None


def _latest_spot(folder: Path) -> dict[str, Any] | None:
    spots = sorted(folder.glob("spot-*.json"), key=_spot_number, reverse=True)
    for path in spots:
        doc = _read(path)
        if doc is not None:
            return doc
    return None


def _spot_number(path: Path) -> int:
    digits = path.stem.removeprefix("spot-")
    return int(digits) if digits.isdigit() else -1
