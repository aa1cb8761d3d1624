"""The demo's live terminal view, rendered from `runtime/status.json` (SPEC §6), defensively.

Every function here is pure: a status mapping (possibly partial or malformed) in, a rich
renderable out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from daemon.numbers import number
from daemon.service.statusview import marks, why_text
from daemon.sim.outcome import Outcome

COLOURS = {"GREEN": "green", "YELLOW": "yellow", "RED": "red", "CRITICAL": "red",
           "HIGH": "dark_orange", "MEDIUM": "yellow", "INFO": "dim"}


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _number(value: Any) -> float:
    return number(value) or 0.0


def window_line(status: Mapping[str, Any]) -> RenderableType:
    """Progress of the window: a bar, elapsed / duration (nominal hours), phase, verdict."""
    elapsed, duration = _number(_get(status, "window", "elapsed_s")), \
        _number(_get(status, "window", "duration_s"))
    total = duration if duration > 0 else 1.0
    grid = Table.grid(padding=(0, 1))
    verdict = str(_get(status, "verdict") or "?")
    grid.add_row(Text("window"), ProgressBar(total=total, completed=min(elapsed, total), width=40),
                 Text(f"{elapsed / 3600:.1f} h / {duration / 3600:.1f} h"),
                 Text(str(_get(status, "window", "phase") or "starting")),
                 Text(verdict, style=COLOURS.get(verdict, "")))
    return grid


def checks_table(status: Mapping[str, Any]) -> Table:
    table = Table(title="checks", expand=False)
    for column in ("check", "last run", "ok", "findings"):
        table.add_column(column)
    checks = _get(status, "checks")
    for name, info in sorted(checks.items() if isinstance(checks, Mapping) else []):
        ok = _get(info, "ok")
        mark = Text("ok", "green") if ok is True else Text("FAIL", "red") if ok is False else "-"
        table.add_row(str(name), str(_get(info, "last_run") or "-"), mark,
                      str(_get(info, "findings") if _get(info, "findings") is not None else "-"))
    return table


def alerts_table(status: Mapping[str, Any], limit: int = 15) -> Table:
    counts = _get(status, "alerts", "counts")
    summary = " ".join(f"{k}={v}" for k, v in counts.items()) if isinstance(counts, Mapping) \
        else ""
    return _table(f"open alerts {summary}".strip(), _rows(status, "open"), limit)


def recent_table(status: Mapping[str, Any], limit: int = 8) -> RenderableType:
    """Events and resolved alerts of the window (`alerts.recent`): why RED with 0 open."""
    rows = _rows(status, "recent")
    if not rows:
        return Text("recent events: none", style="dim")
    return _table("recent events and resolved alerts (newest first)", rows, limit)


def _rows(status: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    alerts = _get(status, "alerts", key)
    return [a for a in alerts if isinstance(a, Mapping)] if isinstance(alerts, list) else []


def _table(title: str, rows: list[Mapping[str, Any]], limit: int) -> Table:
    table = Table(title=title, expand=False)
    for column in ("severity", "code", "subject", "fingerprint", "marks"):
        table.add_column(column, min_width=16 if column == "fingerprint" else None)
    for alert in rows[:limit]:
        sev = str(alert.get("severity", "?"))
        table.add_row(Text(sev, COLOURS.get(sev, "")), str(alert.get("code", "?")),
                      str(alert.get("subject", "")), str(alert.get("fingerprint") or "-"),
                      marks(alert))
    if len(rows) > limit:
        table.add_row("…", f"{len(rows) - limit} more", "", "", "")
    return table


def render(status: Any) -> RenderableType:
    """The whole live view; a missing or unreadable status says so instead."""
    if not isinstance(status, Mapping):
        return Text("waiting for burnin's status.json …", style="dim")
    verdict = str(_get(status, "verdict") or "")
    why = Text(why_text(status), style=COLOURS.get(verdict, ""))
    return Group(window_line(status), why, checks_table(status), alerts_table(status),
                 recent_table(status))


def faults_table(rows: list[Outcome]) -> Table:
    """The demo's final summary: each injected fault, its expected code, caught or not."""
    table = Table(title="injected faults")
    for column in ("fault", "expected", "caught", "after (real s)"):
        table.add_column(column)
    for row in rows:
        caught = Text("yes", "green") if row.in_time else \
            Text("late", "yellow") if row.detected else Text("NO", "red")
        delay = f"{row.delay_s:.1f}" if row.delay_s is not None else "-"
        table.add_row(row.fault, f"{row.code} {row.severity}", caught, delay)
    return table
