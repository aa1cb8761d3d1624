"""The report as Markdown, in the seed 003 template: duration, status, metrics, issues found
(severity and action), recommendation; then the evidence. Every string that may come from
the observed tree goes through `esc`: Markdown punctuation and `<` are backslash-escaped, so
it stays inert (no HTML, links or emphasis) yet reads as itself in a text editor (`a -> b`,
not `a -&gt; b`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from daemon.report.document import by_code, issue_groups

TITLES = {"final": "Burn-In Results", "spot": "Burn-In Spot Check {n} (interim)",
          "current": "Burn-In Interim Report (window still running)"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~<])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def esc(value: object) -> str:
    """`value` as inert Markdown text on one line (no HTML, entities, links or emphasis).

    CommonMark backslash escapes: `\\<` is a literal `<` (never a tag or an autolink) and
    `\\&` stops an entity; `>` and a lone `&` are already literal inside a line."""
    text = " ".join(str(value).split())
    return _ENTITY.sub(r"\\&", _MD_SPECIAL.sub(r"\\\1", text))


def pct(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"{value * 100:.3f} %"


def figure(value: object, unit: str = "") -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"{value:g}{unit}"


def value_text(fig: dict[str, Any]) -> str:
    """A graded figure with its unit (ratios as percent, counts bare)."""
    if fig["unit"] == "ratio":
        return pct(fig["value"])
    return figure(fig["value"], "" if fig["unit"] == "count" else f" {fig['unit']}")


def hours(seconds: object) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return "n/a"
    return f"{seconds / 3600:.2f} h"


def render(doc: dict[str, Any]) -> str:
    """The whole Markdown text of a report document."""
    parts = [_head(doc), _metrics(doc), _issues(doc), _recommendation(doc), _reasons(doc),
             _deadlines(doc), _coverage(doc), _environment(doc), _excluded(doc)]
    return "\n".join(p for p in parts if p) + "\n"


def _head(doc: dict[str, Any]) -> str:
    w, v = doc["window"], doc["verdict"]
    title = TITLES.get(doc["kind"], "Burn-In Report").format(n=doc.get("n"))
    return (
        f"# {title}\n\n"
        f"**Window:** {esc(w['id'])}  \n"
        f"**Duration:** {hours(w['elapsed_s'])} of {hours(w['duration_s'])} "
        f"(time scale {figure(w['time_scale'])}, phase {esc(w['phase'])})  \n"
        f"**Status:** {esc(v['color'])} ({esc(v['label'])}){_interim_mark(doc)}  \n"
        f"**Coverage:** {pct(w['coverage'])}, {len(w['downtime'])} downtime period(s)  \n"
        f"**Generated:** {esc(doc['generated_at'])}\n"
        + (f"\n> **{esc(doc['interim_note'])}**\n" if doc.get("interim_note") else "")
        + (f"\nAlerts read from: {esc(doc['alert_source'])}\n" if doc.get("alert_source")
           else "")
    )


def _interim_mark(doc: dict[str, Any]) -> str:
    return ", **INTERIM** (verdict so far)" if doc.get("interim") else ""


def by_key(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The graded figures of a report by key."""
    return {str(f.get("key")): f for f in doc["verdict"]["figures"]}


def last_worst(fig: dict[str, Any] | None) -> str:
    """`0.000 % last, worst 6.000 % (red)`: a figure never shows only its end value."""
    if fig is None:
        return "n/a"
    last = value_text({**fig, "value": fig.get("last", fig.get("value"))})
    worst = value_text({**fig, "value": fig.get("worst")})
    return f"{last} last, worst {worst} ({esc(fig['band'])})"


def alert_text(fig: dict[str, Any], quote: Callable[[object], str] = esc) -> str:
    """The worst alert that fired for a figure (`CRITICAL locks.timeout_rate ×2`), or `-`."""
    a = fig.get("alert")
    if not isinstance(a, dict):
        return "-"
    expected = ", silenced before firing" if a.get("expected") else ""
    return f"{quote(a['severity'])} {quote(a['code'])} ×{quote(a['count'])}{expected}"


def _metrics(doc: dict[str, Any]) -> str:
    s, figs = doc["summary"], by_key(doc)
    cpu = ", ".join(f"{esc(k)} {figure(v, ' %')}" for k, v in s["worker_cpu_percent"].items())
    lines = [
        "## Metrics",
        f"- Lock timeout rate: {last_worst(figs.get('lock_timeout_rate'))}",
        f"- Failed notifications (share of results): "
        f"{last_worst(figs.get('failed_notification_rate'))}",
        f"- State corruptions: {s['state_corruptions']}",
        f"- Duplicate jobs: {s['duplicate_jobs']}",
        f"- Stale claims: {s['stale_claims']}",
        f"- Job latency: p50 {figure(s['job_latency_p50_ms'], ' ms')}, "
        f"p95 {figure(s['job_latency_p95_ms'], ' ms')} at the end; "
        f"window peak p95 {figure(s.get('peak_latency_p95_ms'), ' ms')}",
        f"- Queue: peak {figure(s.get('peak_pending'))} pending",
        f"- Worker CPU: {cpu or 'n/a'}",
        "",
        "Each figure: its last value, the worst seen in the window, and a band never better "
        "than the alert that fired for it.",
        "",
        "| figure | last | worst in window | band | alert fired |", "|---|---|---|---|---|",
    ]
    for f in doc["verdict"]["figures"]:
        last = value_text({**f, "value": f.get("last", f.get("value"))})
        worst = value_text({**f, "value": f.get("worst")})
        lines.append(f"| {esc(f['label'])} | {last} | {worst} | {esc(f['band'])} | "
                     f"{alert_text(f)} |")
    return "\n".join(lines) + "\n"


def _issues(doc: dict[str, Any]) -> str:
    groups = issue_groups(doc["issues"])
    if not groups:
        return "## Issues Found\nNone.\n"
    lines = ["## Issues Found", "Alerts per code: how many fired, how many are still open "
             "(conditions firing now; an event is never open), and how many were silenced "
             "before they fired (expected: planned, not counted in the verdict).", ""]
    for i, g in enumerate(groups, 1):
        extra = g["count"] - len(g["subjects"])
        more = f" (+{extra} more)" if extra > 0 else ""
        lines += [
            f"{i}. **{esc(g['code'])}**: {esc(g['message'])}",
            f"   - Severity: {esc(g['severity'])}",
            f"   - Action: {esc(g['action'])}",
            f"   - Alerts: {alert_counts(g)}, first {esc(g['first_seen'])}",
            f"   - Subjects: {', '.join(esc(s) for s in g['subjects'])}{more}",
        ]
    return "\n".join(lines) + "\n"


def alert_counts(g: dict[str, Any]) -> str:
    """`3 fired (1 still open, 2 silenced before firing: expected)`, zero parts left out."""
    parts = [f"{g['open']} still open"] if g["open"] else []
    if g["expected"]:
        parts.append(f"{g['expected']} silenced before firing: expected, not counted")
    return f"{g['count']} fired" + (f" ({'; '.join(parts)})" if parts else "")


def chosen_box(doc: dict[str, Any]) -> str:
    """The ticked recommendation; an interim GREEN ticks none (the window is not over)."""
    if doc["verdict"]["color"] != "GREEN":
        return "Fix issues first"
    return "" if doc.get("interim") else "Proceed to Phase 2"


def _recommendation(doc: dict[str, Any]) -> str:
    chosen = chosen_box(doc)
    lines = ["## Recommendation" + (" (interim)" if doc.get("interim") else "")]
    for text in ("Proceed to Phase 2", "Fix issues first", "Rollback Phase 1"):
        lines.append(f"- [{'x' if text == chosen else ' '}] {text}")
    lines.append(f"\n{esc(doc['recommendation'])}")
    return "\n".join(lines) + "\n"


def _reasons(doc: dict[str, Any]) -> str:
    reasons = doc["verdict"]["reasons"]
    if not reasons:
        return "## Reasons for the verdict\nNo CRITICAL or HIGH alert; full coverage.\n"
    lines = ["## Reasons for the verdict"]
    for r, more in by_code(reasons):
        evidence = ", ".join(f"{esc(k)}={esc(v)}" for k, v in r["evidence"].items())
        lines.append(f"- **{esc(r['severity'])}** {esc(r['code'])} {esc(r['subject'])}: "
                     f"{esc(r['message'])}" + (f" (evidence: {evidence})" if evidence else ""))
        if more > 0:
            lines.append(f"- … and {more} more {esc(r['code'])} (all in the JSON report)")
    return "\n".join(lines) + "\n"


def _deadlines(doc: dict[str, Any]) -> str:
    lines = ["## Alerts resolved within their deadline",
             "| tier | deadline | fired | events | within | late | open |",
             "|---|---|---|---|---|---|---|"]
    deadline = {"CRITICAL": "ack or resolve", "HIGH": "1 h", "MEDIUM": "4 h"}
    for tier, row in doc["verdict"]["tiers"].items():
        lines.append(f"| {esc(tier)} | {deadline.get(tier, '')} | {row['fired']} | "
                     f"{row['events']} | {row['resolved_within_deadline']} | {row['late']} | "
                     f"{row['open']} |")
    return "\n".join(lines) + "\n"


def _coverage(doc: dict[str, Any]) -> str:
    w = doc["window"]
    lines = ["## Coverage", f"Restarts: {w['restarts']}; downtime "
             f"{hours(w['downtime_nominal_s'])} of window time."]
    lines += [f"- down from {esc(g['from'])} to {esc(g['to'])} ({g['real_s']} s real, "
              f"{hours(g['nominal_s'])} window)" for g in w["downtime"]]
    lines += [f"- check {esc(k)}: {c['runs']} runs, {c['failed']} failed, {c['missed']} missed"
              for k, c in w["checks"].items()]
    return "\n".join(lines) + "\n"


def _environment(doc: dict[str, Any]) -> str:
    """The host's saturated share, environmental alerts and floored limits (SPEC §4)."""
    env = doc["verdict"].get("environment") or {}
    lines = ["## Environment (qualifies the verdict, does not decide it)"]
    share = env.get("saturated_share")
    by = ", ".join(f"{esc(k)} {pct(v)}" for k, v in sorted(env.get("saturated_by", {}).items()))
    lines.append(f"- Host {esc(env.get('host') or 'n/a')} saturated (above "
                 f"{figure(env.get('saturated_above_percent'), ' %')}): {pct(share)} of the "
                 f"window{f' ({by})' if by else ''}; in spells of 30 s or more: "
                 f"{pct(env.get('sustained_share'))} (YELLOW from "
                 f"{pct(env.get('yellow_share'))})")
    lines += [f"- {esc(a['severity'])} {esc(a['code'])} {esc(a['subject'])}: "
              f"{esc(a['message'])}" for a in env.get("alerts", [])[:20]]
    lines += [f"- Floored: {esc(c.get('key'))} {esc(c.get('text'))}"
              for c in doc["window"].get("clamped", [])]
    return "\n".join(lines) + "\n"


def _excluded(doc: dict[str, Any]) -> str:
    rows = doc["verdict"]["excluded"]
    if not rows:
        return ""
    lines = ["## Silenced before firing (expected, not counted)"]
    lines += [f"- {esc(r['severity'])} {esc(r['code'])} {esc(r['subject'])}: "
              f"{esc(r['message'])}" for r in rows]
    return "\n".join(lines) + "\n"
