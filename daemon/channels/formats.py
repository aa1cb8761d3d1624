"""Webhook bodies: `burnin` (SPEC §4 JSON), `alertmanager` (/api/v2/alerts), `slack`."""

from __future__ import annotations

from typing import Any

from daemon.channels import render
from daemon.channels.base import Message, one_line
from daemon.clock import iso
from daemon.model import Severity

AM_FIRING_HOLD_S = 4 * 3600.0  # firing alerts carry an endsAt this far ahead; repeats refresh it


def burnin(msg: Message, now: float) -> Any:
    if msg.type == "verdict":
        return {"schema": "burnin.notification/1", "id": msg.id, "type": "verdict",
                **msg.verdict().to_dict(), "alerts": []}
    return {"schema": "burnin.notification/1", "id": msg.id, "type": "alerts",
            "alerts": msg.records}


def alertmanager(msg: Message, now: float, instance: str = "") -> Any:
    """Alertmanager identifies an alert by its label set, severity included: when an alert
    escalates, the same push ends every lower-tier copy (`endsAt` now, the labels it had),
    so one burnin alert is one active Alertmanager alert."""
    if msg.type == "verdict":
        return [_am_verdict(msg, now)]
    out = []
    for r in msg.records:
        out += [_am_alert(r, now, tier) for tier in _ended_tiers(r)]
        out.append(_am_alert(r, now))
    return out


def _ended_tiers(r: dict[str, Any]) -> list[str]:
    """The tiers an escalated alert passed through (from `escalated_from` up to its own)."""
    before = Severity.__members__.get(str(r.get("escalated_from") or ""))
    now = Severity.__members__.get(r["severity"])
    if before is None or now is None:
        return []
    return [Severity(t).name for t in range(before, now)]


def _am_alert(r: dict[str, Any], now: float, ended_tier: str | None = None) -> dict[str, Any]:
    resolved = r["status"] == "resolved"
    ends = iso(now) if ended_tier else r["resolved_at"] if resolved else \
        iso(now + AM_FIRING_HOLD_S)
    return {
        "labels": {"alertname": r["code"], "severity": (ended_tier or r["severity"]).lower(),
                   "subject": r["subject"], "system": r["system"], "instance": r["host"]},
        "annotations": {"summary": one_line(f"{r['code']} {r['subject']}: {r['message']}", 500),
                        "description": r["message"], "runbook": r.get("runbook", "")},
        "startsAt": r["first_seen"], "endsAt": ends,
        "generatorURL": f"burnin://{r['host']}/{r['window_id']}/{r['fingerprint']}",
    }


def _am_verdict(msg: Message, now: float) -> dict[str, Any]:
    v = msg.verdict()
    return {
        "labels": {"alertname": "burnin.verdict", "severity": v.severity.lower(),
                   "verdict": v.color.lower(), "subject": v.window_id, "system": v.system,
                   "instance": v.host},
        "annotations": {"summary": render.subject(msg), "description": render.body(msg),
                        "report": v.report},
        "startsAt": iso(now), "endsAt": iso(now + AM_FIRING_HOLD_S),
        "generatorURL": f"burnin://{v.host}/{v.window_id}/verdict",
    }


def slack(msg: Message, now: float) -> Any:
    text = f"*{_escape(render.subject(msg))}*\n```{_escape(render.body(msg))}```"
    return {"text": text}


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters (a subject from the tree must not become a link)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FORMATS = {"burnin": burnin, "alertmanager": alertmanager, "slack": slack}
