"""Plain-text renderings shared by email and Slack: a subject line and a body."""

from __future__ import annotations

import orjson

from daemon.channels.base import Message, one_line
from daemon.channels.verdict import Reason
from daemon.model import Severity

SHOWN = 20  # records rendered in full in one message; the rest are counted


def tag(msg: Message) -> str:
    if msg.type == "verdict":
        return msg.verdict().color
    recs = msg.records
    if recs and all(r["status"] == "resolved" for r in recs):
        return "RESOLVED"
    worst = max((Severity[r["severity"]] for r in recs), default=Severity.INFO)
    reasons = {r.get("reason", "first") for r in recs} - {"first"}
    return f"{worst.name} {'/'.join(sorted(reasons))}".strip()


def subject(msg: Message) -> str:
    """`[burnin CRITICAL] ledger.drift agent-07 — system` (one line, no CR/LF)."""
    system = one_line(msg.system, 60)
    if msg.type == "verdict":
        v = msg.verdict()
        window = one_line(v.window_id, 60)
        return f"[burnin {v.color}] {v.label}: burn-in window {window} — {system}"
    first = msg.records[0]
    more = f" (+{len(msg.records) - 1} more)" if len(msg.records) > 1 else ""
    about = f"{one_line(first['code'], 60)} {one_line(first['subject'], 80)}{more}"
    return f"[burnin {tag(msg)}] {about} — {system}"


def body(msg: Message) -> str:
    if msg.type == "verdict":
        return _verdict_body(msg)
    parts = [_record_text(r) for r in msg.records[:SHOWN]]
    if len(msg.records) > SHOWN:
        parts.append(f"... and {len(msg.records) - SHOWN} more alerts of this code "
                     "(all are in logs/alerts.jsonl).")
    return "\n\n".join(parts) + "\n"


def _record_text(r: dict) -> str:
    evidence = orjson.dumps(r.get("evidence", {}), option=orjson.OPT_INDENT_2, default=str)
    lines = [
        f"{r['severity']} {r['status'].upper()} ({r.get('reason', 'first')}): {r['code']}",
        f"Subject: {one_line(r['subject'], 500)}",
        f"Message: {r['message']}",
        f"First seen: {r['first_seen']}   Last seen: {r['last_seen']}",
    ]
    if r.get("resolved_at"):
        lines.append(f"Resolved at: {r['resolved_at']}")
    if r.get("escalated_from"):
        lines.append(f"Escalated from: {r['escalated_from']}")
    lines += [f"Fingerprint: {r['fingerprint']}  (burnin ack {r['fingerprint']})",
              "Evidence:", evidence.decode(), f"Runbook: {r.get('runbook', '')}"]
    return "\n".join(lines)


def _verdict_body(msg: Message) -> str:
    v = msg.verdict()
    lines = [f"Burn-in verdict: {v.color} ({v.label}), exit code {v.exit_code}",
             f"System: {one_line(v.system, 200)}   Host: {one_line(v.host, 200)}",
             f"Window: {one_line(v.window_id, 200)}, finished {v.finished_at}, "
             f"coverage {v.coverage:.2%}",
             f"Report: {v.report}  (final.html and final.json beside it)", "",
             f"Reasons ({len(v.reasons)}):"]
    lines += [_reason_text(r) for r in v.reasons[:SHOWN]] or ["  none: nothing HIGH or "
                                                             "CRITICAL fired, full coverage"]
    if len(v.reasons) > SHOWN:
        lines.append(f"  ... and {len(v.reasons) - SHOWN} more reasons (all are in the report).")
    return "\n".join(lines) + "\n"


def _reason_text(r: Reason) -> str:
    evidence = orjson.dumps(r.evidence, default=str, option=orjson.OPT_SORT_KEYS).decode()
    return (f"  - {r.severity} {one_line(r.code, 80)} {one_line(r.subject, 200)}: "
            f"{one_line(r.message, 500)}\n    Evidence: {one_line(evidence, 1000)}")
