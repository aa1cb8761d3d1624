"""`burnin status` and `burnin watch`: a terminal view of runtime/status.json, and only that.

Everything here reads the status document; nothing talks to the daemon. `render` is pure
(status + `now` in, a rich renderable out) and tolerates missing or ill-typed fields, since the
file may come from another version or be hand-edited. `watch` refreshes it every 2 s, like the
monitored mode of seed 004.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from daemon.clock import SystemClock, parse_timestamp
from daemon.numbers import number
from daemon.records import episodes

STALE_AFTER_S = 180.0
MAX_ALERT_ROWS = 20
VERDICT_STYLE = {"GREEN": "bold green", "YELLOW": "bold yellow", "RED": "bold red"}
SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "INFO": "dim"}
SEVERITY_ORDER = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "INFO": 3}


def load_status(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The status document at `path`, or None and why (missing, unreadable, not JSON)."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        return None, f"{path} does not exist (is the daemon running?)"
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    except orjson.JSONDecodeError as exc:
        return None, f"{path} is not valid JSON: {exc}"
    if not isinstance(data, dict):
        return None, f"{path} is not a JSON object"
    return data, None


def status_age_s(status: Mapping[str, Any] | None, now: float) -> float | None:
    """Seconds since the document was written (`updated_at`), None if unknown."""
    if not isinstance(status, Mapping):
        return None
    updated = parse_timestamp(status.get("updated_at"))
    return None if updated is None else max(0.0, now - updated)


def exit_code(status: Mapping[str, Any] | None, now: float,
              stale_after_s: float = STALE_AFTER_S) -> int:
    """`burnin status` exit code: 0 fresh, 1 stale or missing (SPEC §7)."""
    age = status_age_s(status, now)
    return 0 if age is not None and age <= stale_after_s else 1


def render(status: Mapping[str, Any] | None, *, now: float,
           stale_after_s: float = STALE_AFTER_S, problem: str | None = None) -> RenderableType:
    """The whole summary: header, checks, open alerts, recent events, key metrics."""
    if not isinstance(status, Mapping):
        text = Text(problem or "no status available", style="bold red")
        return Panel(text, title="burnin", border_style="red")
    alerts = _map(status.get("alerts"))
    return Group(
        _header(status, now, stale_after_s),
        _checks(_map(status.get("checks")), now),
        _alerts(alerts, now),
        _recent(alerts, now),
        _metrics(_map(status.get("metrics")), _map(status.get("daemon"))),
    )


def _header(status: Mapping[str, Any], now: float, stale_after_s: float) -> RenderableType:
    verdict = str(status.get("verdict", "?"))
    window = _map(status.get("window"))
    line = Text.assemble(("verdict ", "bold"), (verdict, VERDICT_STYLE.get(verdict, "bold")))
    line.append(f"   window {window.get('id', '?')} ({window.get('phase', '?')})  ")
    line.append(_progress(window))
    age = status_age_s(status, now)
    fresh = age is not None and age <= stale_after_s
    updated = "never" if age is None else f"{_span(age)} ago"
    line.append(f"\nupdated {updated}", style="" if fresh else "bold red")
    if not fresh:
        line.append("  STALE", style="bold red")
    line.append(f"   pid {status.get('pid', '?')}   version {status.get('version', '?')}")
    why = why_text(status)
    if why:
        line.append(f"\n{why}", style=VERDICT_STYLE.get(verdict, ""))
    return Panel(line, title="burnin status", border_style=VERDICT_STYLE.get(verdict, "white"))


def why_text(status: Mapping[str, Any], most: int = 3) -> str:
    """`RED because: CRITICAL journal.corrupt_line (event) …`: the alerts behind the verdict,
    open or recent. As in the verdict, alerts silenced before firing and environmental ones
    (`host.*`, `daemon.*`) do not count."""
    from daemon.window.verdict import is_environmental

    verdict = str(status.get("verdict", ""))
    tier = {"RED": "CRITICAL", "YELLOW": "HIGH"}.get(verdict)
    if tier is None:
        return ""
    alerts = _map(status.get("alerts"))
    rows = episodes(a for key in ("open", "recent") for a in _list(alerts.get(key)))
    hits = [a for a in rows if a.severity == tier and not a.silenced_before_fire
            and not is_environmental(a)]
    if not hits:
        return f"{verdict} because: see `burnin report` (coverage, host load or earlier alerts)"
    names = [f"{tier} {a.code} {a.subject}".rstrip() + (" (event)" if a.is_event else "")
             for a in hits[:most]]
    more = f" and {len(hits) - most} more" if len(hits) > most else ""
    return f"{verdict} because: " + "; ".join(names) + more


def _progress(window: Mapping[str, Any]) -> str:
    elapsed, duration = number(window.get("elapsed_s")), number(window.get("duration_s"))
    if elapsed is None or not duration:
        return ""
    ratio = min(1.0, max(0.0, elapsed / duration))
    bar = "█" * round(ratio * 20) + "░" * (20 - round(ratio * 20))
    return f"{bar} {ratio:.1%}  {_span(elapsed)} of {_span(duration)}"


def _checks(checks: Mapping[str, Any], now: float) -> RenderableType:
    table = Table(title="checks", title_justify="left", expand=True)
    for col in ("check", "last run", "next run", "ok", "duration", "findings"):
        table.add_column(col)
    for name, raw in checks.items():
        c = _map(raw)
        ok = c.get("ok")
        table.add_row(str(name), _when(c.get("last_run"), now), _when(c.get("next_run"), now),
                      Text("ok", "green") if ok is True else Text("FAILED", "bold red")
                      if ok is False else Text("-"),
                      _ms(c.get("duration_ms")), _count(c.get("findings")))
    return table


ALERT_COLUMNS = ("severity", "code", "subject", "since", "fingerprint", "marks", "message")


def _alerts(alerts: Mapping[str, Any], now: float) -> RenderableType:
    counts = _map(alerts.get("counts"))
    title = "open alerts  " + "  ".join(f"{k} {_count(counts.get(k))}" for k in SEVERITY_ORDER)
    rows = sorted((_map(a) for a in _list(alerts.get("open"))),
                  key=lambda a: SEVERITY_ORDER.get(str(a.get("severity")), 9))
    return _alert_table(title, rows, now, "first_seen")


def _recent(alerts: Mapping[str, Any], now: float) -> RenderableType:
    """Events and resolved alerts of the window (`alerts.recent`): why RED with 0 open."""
    rows = [_map(a) for a in _list(alerts.get("recent"))]
    title = "recent events and resolved alerts (this window, newest first)"
    if not rows:
        return Text(f"{title}: none", style="dim")
    return _alert_table(title, rows, now, "last_seen")


def _alert_table(title: str, rows: list[Mapping[str, Any]], now: float,
                 when: str) -> RenderableType:
    table = Table(title=title, title_justify="left", expand=True)
    for col in ALERT_COLUMNS:
        table.add_column("when" if col == "since" and when != "first_seen" else col,
                         overflow="fold", min_width=16 if col == "fingerprint" else None)
    for a in rows[:MAX_ALERT_ROWS]:
        sev = str(a.get("severity", "?"))
        table.add_row(Text(sev, SEVERITY_STYLE.get(sev, "")), str(a.get("code", "?")),
                      str(a.get("subject", "")),
                      _when(a.get("resolved_at") or a.get(when) or a.get("first_seen"), now),
                      str(a.get("fingerprint") or "-"), marks(a), str(a.get("message", "")))
    if len(rows) > MAX_ALERT_ROWS:
        table.add_row("", f"… {len(rows) - MAX_ALERT_ROWS} more", *[""] * 5)
    return table


def marks(alert: Mapping[str, Any]) -> Text:
    """What changes how an alert is notified or counted: acked, silenced, event, resolved."""
    out = []
    if alert.get("kind") == "event":
        out.append(("event", "dim"))
    if alert.get("status") == "resolved":
        out.append(("resolved", "green"))
    if alert.get("acked"):
        out.append(("ACKED", "cyan"))
    if alert.get("silenced_before_fire"):
        out.append(("SILENCED (expected)", "magenta"))
    elif alert.get("silenced"):
        out.append(("SILENCED", "magenta"))
    text = Text()
    for i, (word, style) in enumerate(out):
        text.append((" " if i else "") + word, style)
    return text if out else Text("-")


def _metrics(metrics: Mapping[str, Any], daemon: Mapping[str, Any]) -> RenderableType:
    table = Table(title="metrics", title_justify="left", expand=True, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    for label, value in _metric_rows(metrics, daemon):
        table.add_row(label, value)
    return table


def _metric_rows(metrics: Mapping[str, Any], daemon: Mapping[str, Any]) -> list[tuple[str, str]]:
    jobs, journal = _map(metrics.get("jobs")), _map(metrics.get("journal"))
    lat, host = _map(jobs.get("latency_ms")), _map(metrics.get("host"))
    rows = [
        ("jobs", "  ".join(f"{k} {_count(jobs.get(k))}"
                           for k in ("pending", "claimed", "done", "failed"))),
        ("latency", "  ".join(f"{k} {_ms(lat.get(k))}" for k in ("p50", "p95", "p99"))
         + f"  (n={_count(lat.get('count'))})"),
        ("journal", f"{_count(journal.get('events'))} events  {_bytes(journal.get('bytes'))}"),
        ("host", "  ".join(f"{k} {_pct(host.get(k + '_percent'))}" for k in ("cpu", "memory"))
         + f"  disk {disk_text(host)}"),
        ("burnin", f"rss {_bytes(daemon.get('rss_bytes'))}  cpu {_pct(daemon.get('cpu_percent'))}"
                   f"  up {_span(number(daemon.get('uptime_s')))}"),
    ]
    for name, raw in sorted(_map(metrics.get("processes")).items()):
        p = _map(raw)
        rows.append((f"process {name}", f"rss {_bytes(p.get('rss_bytes'))}  "
                                        f"cpu {_pct(p.get('cpu_percent'))}"))
    return rows


def disk_text(host: Mapping[str, Any]) -> str:
    """The fullest disks the host check watches: `91.0% /srv  40.2% /var` (`-` if none)."""
    disks = [(v, str(p)) for p, v in _map(host.get("disks")).items() if number(v) is not None]
    if not disks and number(host.get("disk_percent")) is not None:
        return _pct(host.get("disk_percent"))
    disks.sort(reverse=True)
    more = f"  (+{len(disks) - 3} more)" if len(disks) > 3 else ""
    return "  ".join(f"{_pct(v)} {p}" for v, p in disks[:3]) + more if disks else "-"


def watch(status_path: Path, interval_s: float = 2.0, once: bool = False, *,
          console: Console | None = None, sleep: Callable[[float], None] = time.sleep,
          now: Callable[[], float] | None = None, stale_after_s: float = STALE_AFTER_S) -> int:
    """Show status.json, refreshed every `interval_s` until Ctrl-C (exit 0); `once`: one frame."""
    console = console or Console()
    clock = now or SystemClock().time

    def frame() -> RenderableType:
        status, problem = load_status(status_path)
        return render(status, now=clock(), stale_after_s=stale_after_s, problem=problem)

    if once:
        console.print(frame())
        return 0
    try:
        with Live(frame(), console=console, auto_refresh=False) as live:
            while True:
                sleep(interval_s)
                live.update(frame(), refresh=True)
    except KeyboardInterrupt:
        return 0


# --- formatting -------------------------------------------------------------------------


def _when(value: Any, now: float) -> str:
    ts = parse_timestamp(value)
    if ts is None:
        return "-"
    delta = ts - now
    return f"in {_span(delta)}" if delta > 0 else f"{_span(-delta)} ago"


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _ms(value: Any) -> str:
    v = number(value)
    return "-" if v is None else f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms"


def _pct(value: Any) -> str:
    v = number(value)
    return "-" if v is None else f"{v:.1f}%"


def _bytes(value: Any) -> str:
    v = number(value)
    if v is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(v) < 1024 or unit == "GiB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return "-"


def _count(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))
    v = number(value)
    return "-" if v is None else f"{v:g}"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
