"""The report as Markdown, in the seed 003 template: duration, status, metrics, issues found
(severity and action), recommendation; then the evidence. Every string that may come from
the observed tree goes through `esc` (HTML entities and Markdown punctuation escaped)."""

from __future__ import annotations

import re
from typing import Any

from daemon.report.document import by_code, issue_groups

TITLES = {"final": "Burn-In Results", "spot": "Burn-In Spot Check {n}",
          "current": "Burn-In Status (window still running)"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")


def esc(value: object) -> str:
    """`value` as inert Markdown text on one line (no HTML, links or emphasis)."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


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
        f"**Status:** {esc(v['color'])} ({esc(v['label'])})  \n"
        f"**Coverage:** {pct(w['coverage'])}, {len(w['downtime'])} downtime period(s)  \n"
        f"**Generated:** {esc(doc['generated_at'])}\n"
    )


def _metrics(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    cpu = ", ".join(f"{esc(k)} {figure(v, ' %')}" for k, v in s["worker_cpu_percent"].items())
    lines = [
        "## Metrics",
        f"- Lock timeout rate: {pct(s['lock_timeout_rate'])}",
        f"- Failed notifications: {pct(s['failed_notification_rate'])} of results",
        f"- State corruptions: {s['state_corruptions']}",
        f"- Duplicate jobs: {s['duplicate_jobs']}",
        f"- Stale claims: {s['stale_claims']}",
        f"- Job latency: p50 {figure(s['job_latency_p50_ms'], ' ms')}, "
        f"p95 {figure(s['job_latency_p95_ms'], ' ms')} at the end; "
        f"window peak p95 {figure(s.get('peak_latency_p95_ms'), ' ms')}",
        f"- Queue: peak {figure(s.get('peak_pending'))} pending",
        f"- Worker CPU: {cpu or 'n/a'}",
        "",
        "| figure | value | band |", "|---|---|---|",
    ]
    for f in doc["verdict"]["figures"]:
        value = value_text(f)
        lines.append(f"| {esc(f['label'])} | {value} | {esc(f['band'])} |")
    return "\n".join(lines) + "\n"


def _issues(doc: dict[str, Any]) -> str:
    groups = issue_groups(doc["issues"])
    if not groups:
        return "## Issues Found\nNone.\n"
    lines = ["## Issues Found"]
    for i, g in enumerate(groups, 1):
        extra = g["count"] - len(g["subjects"])
        more = f" (+{extra} more)" if extra > 0 else ""
        lines += [
            f"{i}. **{esc(g['code'])}**: {esc(g['message'])}",
            f"   - Severity: {esc(g['severity'])}",
            f"   - Action: {esc(g['action'])}",
            f"   - Alerts: {g['count']} ({g['open']} open, {g['expected']} expected), first "
            f"{esc(g['first_seen'])}",
            f"   - Subjects: {', '.join(esc(s) for s in g['subjects'])}{more}",
        ]
    return "\n".join(lines) + "\n"


def _recommendation(doc: dict[str, Any]) -> str:
    chosen = "Proceed to Phase 2" if doc["verdict"]["color"] == "GREEN" else "Fix issues first"
    lines = ["## Recommendation"]
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
                 f"window{f' ({by})' if by else ''}; YELLOW from "
                 f"{pct(env.get('yellow_share'))}")
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
