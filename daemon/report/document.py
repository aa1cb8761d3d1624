"""The report as one JSON document (`final.json`, `spot-<n>.json`), built by pure functions.

Markdown and HTML are rendered from this document only, so `burnin report` can render any
stored window in any format. Strings from the observed tree stay raw here (JSON is their
safe form); each renderer escapes them for its own format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from daemon.clock import iso, parse_timestamp
from daemon.numbers import number
from daemon.records import Episode, Figures
from daemon.report.figures import grade
from daemon.window.state import Window
from daemon.window.verdict import LABELS, Thresholds, Verdict, original_tier, severity_of

SCHEMA = "burnin.report/1"
ACTIONS = {"CRITICAL": "Fix", "HIGH": "Fix", "MEDIUM": "Monitor", "INFO": "Accept"}
RECOMMENDATION = {
    "GREEN": "Proceed to the next phase: no CRITICAL or HIGH alert, full coverage.",
    "YELLOW": "Investigate before proceeding: HIGH alerts fired or the window was not fully "
              "covered. Fix or accept each reason below, then decide.",
    "RED": "Fix before proceeding: CRITICAL alerts fired. Fix each reason below and run a new "
           "burn-in window.",
}
ALERT_KEYS = ("fingerprint", "status", "code", "severity", "kind", "subject", "message",
              "runbook", "first_seen", "last_seen", "resolved_at", "escalated_from", "evidence",
              "silenced", "silenced_before_fire", "acked")


INTERIM_NOTE = ("INTERIM: the verdict so far, from the alerts fired up to {at}; the window "
                "runs until {end}. An alert that fired stays counted: RED cannot get better.")


def build(kind: str, n: int | None, window: Window, verdict: Verdict, points: list[dict],
          fired: Sequence[Episode], figures: Figures, now: float,
          thresholds: Thresholds | None = None) -> dict[str, Any]:
    """The whole report document for `window` as of real time `now`.

    `kind` is `final`, `spot` or `current` (rendered on demand); every kind but `final` is
    interim. Each graded figure carries its last and worst value and a band that agrees with
    the alerts fired for it (`daemon.report.figures`)."""
    metrics = dict(figures.metrics)
    graded = grade(verdict.figures, points, fired, thresholds)
    interim = kind != "final"
    return {
        "schema": SCHEMA, "kind": kind, "n": n, "generated_at": iso(now),
        "interim": interim,
        "interim_note": INTERIM_NOTE.format(at=iso(now), end=iso(window.ends_at))
        if interim else None,
        "system": figures.system,
        "window": window_summary(window, now),
        "verdict": {**verdict.to_dict(), "figures": [asdict(g) for g in graded],
                    "exit_code": verdict.exit_code},
        "summary": {**summary(metrics, fired), **peaks(points)},
        "issues": issues(fired, window.time_scale),
        "recommendation": recommendation(verdict.color, interim),
        "metrics": metrics, "alerts": [clean_alert(a) for a in fired], "series": points,
    }


def _obj(value: object) -> dict[str, Any]:
    """A JSON object of the status document, or {} (its metrics may be anything)."""
    return value if isinstance(value, dict) else {}


def recommendation(color: str, interim: bool) -> str:
    """What to do; an interim GREEN is no go-ahead yet (the window is not over)."""
    if interim and color == "GREEN":
        return ("No CRITICAL or HIGH alert so far, full coverage so far. Decide on the final "
                "report, at the end of the window.")
    return RECOMMENDATION[color]


def clean_alert(alert: Episode) -> dict[str, Any]:
    """The alert record fields the report keeps (SPEC §4 plus silence/ack flags)."""
    return {k: dict(alert.evidence) if k == "evidence" else getattr(alert, k)
            for k in ALERT_KEYS}


def window_summary(window: Window, now: float) -> dict[str, Any]:
    """Id, times, coverage, downtime (real and nominal seconds) and check counts."""
    gaps = [{"from": iso(g["from"]), "to": iso(g["to"]), "real_s": round(g["to"] - g["from"], 3),
             "nominal_s": round((g["to"] - g["from"]) * window.time_scale, 1)}
            for g in window.downtime]
    return {
        **window.status(now),
        "finished_at": iso(window.finished_at), "verdict": window.verdict,
        "restarts": window.restarts, "downtime": gaps,
        "downtime_nominal_s": round(window.downtime_s(now) * window.time_scale, 1),
        "checks": {k: {**vars(v), "last_run": iso(v.last_run)} for k, v in window.checks.items()},
    }


def _count(alerts: Sequence[Episode], *codes: str) -> int:
    return sum(1 for a in alerts if a.code in codes)


def summary(metrics: dict[str, Any], alerts: Sequence[Episode]) -> dict[str, Any]:
    """The seed 003 template's metrics, from the last status and the alerts fired."""
    jobs, locks = _obj(metrics.get("jobs")), _obj(metrics.get("locks"))
    latency = _obj(jobs.get("latency_ms"))
    return {
        "lock_timeout_rate": locks.get("rate"),
        "failed_notification_rate": jobs.get("failed_rate"),
        "state_corruptions": _count(alerts, "state.corrupt", "transitions.corrupt_line"),
        "duplicate_jobs": _count(alerts, "jobs.duplicate_processing"),
        "stale_claims": _count(alerts, "jobs.stale_claim"),
        "job_latency_p50_ms": latency.get("p50"), "job_latency_p95_ms": latency.get("p95"),
        "jobs_done": jobs.get("done"), "jobs_failed": jobs.get("failed"),
        "worker_cpu_percent": _worker_cpu(metrics),
    }


def peaks(points: list[dict]) -> dict[str, Any]:
    """Worst values over the window's time series (the last status shows only the end)."""

    def top(key: str) -> float | None:
        return max((v for p in points if (v := number(p.get(key))) is not None), default=None)

    return {"peak_latency_p95_ms": top("p95"), "peak_pending": top("pending"),
            "peak_host_cpu_percent": top("host_cpu")}


def _worker_cpu(metrics: dict[str, Any]) -> dict[str, Any]:
    procs = _obj(metrics.get("processes"))
    return {str(k): v.get("cpu_percent") for k, v in procs.items() if isinstance(v, dict)}


def issues(alerts: Sequence[Episode], time_scale: float) -> list[dict[str, Any]]:
    """Every alert that fired, worst first: severity, action, and how long it lasted."""
    rows = [_issue(a, time_scale) for a in alerts]
    rank = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "INFO": 3}
    return sorted(rows, key=lambda r: (rank[r["severity"]], str(r["first_seen"])))


def _issue(alert: Episode, time_scale: float) -> dict[str, Any]:
    sev = severity_of(alert)
    expected = alert.silenced_before_fire
    return {
        "severity": sev, "tier_at_fire": original_tier(alert),
        "code": alert.code, "subject": alert.subject,
        "message": alert.message, "status": alert.status,
        "first_seen": alert.first_seen, "resolved_at": alert.resolved_at,
        "duration_nominal_s": _lasted(alert, time_scale),
        "action": "Accept (silenced, expected)" if expected else ACTIONS[sev],
        "counted": not expected, "acked": alert.acked,
        "kind": alert.kind or "condition",
        "runbook": alert.runbook,
    }


def _lasted(alert: Episode, time_scale: float) -> float | None:
    first = parse_timestamp(alert.first_seen)
    last = parse_timestamp(alert.resolved_at)
    if first is None or last is None:
        return None
    return round(max(0.0, last - first) * time_scale, 1)


def label_of(color: str) -> str:
    return LABELS.get(color, "?")


def issue_groups(rows: list[dict[str, Any]], examples: int = 3) -> list[dict[str, Any]]:
    """Issues grouped by severity and code (worst first), so a long list reads in a minute."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        g = groups.setdefault((r["severity"], r["code"]), {
            "severity": r["severity"], "code": r["code"], "count": 0, "open": 0,
            "expected": 0, "subjects": [], "message": r["message"], "action": r["action"],
            "first_seen": r["first_seen"], "runbook": r["runbook"]})
        g["count"] += 1
        g["open"] += 1 if r["resolved_at"] is None and r.get("kind") != "event" else 0
        g["expected"] += 0 if r["counted"] else 1
        if len(g["subjects"]) < examples:
            g["subjects"].append(r["subject"])
        if g["expected"] < g["count"]:
            g["action"] = ACTIONS[r["severity"]]
    return list(groups.values())


def by_code(rows: list[dict[str, Any]], examples: int = 3) -> list[tuple[dict, int]]:
    """The first `examples` rows of each code, each with how many more of that code follow."""
    total: dict[str, int] = {}
    for r in rows:
        total[r["code"]] = total.get(r["code"], 0) + 1
    shown: dict[str, int] = {}
    out = []
    for r in rows:
        shown[r["code"]] = shown.get(r["code"], 0) + 1
        if shown[r["code"]] <= examples:
            last = shown[r["code"]] == min(examples, total[r["code"]])
            out.append((r, total[r["code"]] - examples if last else 0))
    return out
