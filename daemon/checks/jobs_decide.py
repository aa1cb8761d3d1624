"""Pure decisions of the job checks: index records in, findings out (table-tested).

No I/O and no clock: every function takes `now` and the limits in real seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from daemon.clock import iso
from daemon.model import Finding, Severity, finding
from daemon.sources.jobs_index import ClaimRec, JobEvent, PendingRec
from daemon.sources.jobs_parse import safe


def rel(folder: str, name: str) -> str:
    return safe(f"{folder}/{name}" if folder else name)


def is_stale(rec: ClaimRec, now: float, limit_s: float) -> bool:
    """A claim older than the limit, or naming a pid that is gone."""
    return rec.pid_gone or now - rec.since > limit_s


def stale_findings(claims: Mapping[str, ClaimRec], folder: str, now: float,
                   limit_s: float) -> list[Finding]:
    """One `jobs.stale_claim` per stale claim; subject = the claim path."""
    return [_stale(rel(folder, name), rec, now, limit_s)
            for name, rec in claims.items() if is_stale(rec, now, limit_s)]


def _stale(subject: str, rec: ClaimRec, now: float, limit_s: float) -> Finding:
    age = now - rec.since
    why = f"its pid {rec.pid} is gone" if rec.pid_gone else f"older than {limit_s:.3g}s"
    return finding("jobs.stale_claim", subject,
                   f"job {safe(rec.job_id)} claimed {age:.1f}s ago and not done ({why})",
                   {"job_id": safe(rec.job_id), "path": subject, "claimed_at": iso(rec.since),
                    "age_s": round(age, 3), "limit_s": limit_s, "pid": rec.pid,
                    "pid_gone": rec.pid_gone})


def pending_findings(pending: Mapping[str, PendingRec], folder: str, now: float,
                     limit_s: float) -> list[Finding]:
    """One `jobs.pending_too_long` per job waiting unclaimed longer than the limit."""
    out = []
    for name, rec in pending.items():
        age = now - rec.since
        if age > limit_s:
            subject = rel(folder, name)
            out.append(finding("jobs.pending_too_long", subject,
                               f"job {safe(rec.job_id)} unclaimed for {age:.1f}s",
                               {"job_id": safe(rec.job_id), "path": subject,
                                "created_at": iso(rec.since), "age_s": round(age, 3),
                                "limit_s": limit_s}))
    return out


def next_deadline(claims: Iterable[ClaimRec], pending: Iterable[PendingRec], now: float,
                  stale_s: float, pending_s: float) -> float | None:
    """The earliest time a claim or a job crosses its limit (None when none will)."""
    times = [c.since + stale_s for c in claims if not is_stale(c, now, stale_s)]
    times += [p.since + pending_s for p in pending if now - p.since <= pending_s]
    return min(times, default=None)


def event_finding(ev: JobEvent) -> Finding:
    """A duplicate (subject = job id) or an unreadable file (subject = its path)."""
    path = safe(ev.rel)
    if ev.code == "jobs.duplicate_processing":
        jid = safe(ev.job_id)
        return finding(ev.code, jid, f"job {jid} processed more than once: {safe(ev.reason)}",
                       {"job_id": jid, "path": path, "reason": safe(ev.reason)})
    return finding(ev.code, path, f"{path} does not parse as a JSON object",
                   {"job_id": safe(ev.job_id) or None, "path": path, "reason": ev.reason})


def unavailable_finding(folder: str, reason: str) -> Finding:
    subject = safe(folder) or "."
    return finding("source.unavailable", subject, f"job folder {subject} is {reason}",
                   {"path": subject, "reason": reason})


def excessive_finding(subject: str, seen: int, threshold: int) -> Finding:
    return finding("jobs.stale_claims_excessive", safe(subject) or ".",
                   f"{seen} distinct stale claims in this window (limit {threshold})",
                   {"stale_claims": seen, "threshold": threshold})


# -- rates (position check) -----------------------------------------------------------------


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (non-empty)."""
    rank = max(1, math.ceil(p / 100.0 * len(sorted_ms)))
    return sorted_ms[rank - 1]


def latency_stats(samples_ms: Iterable[float]) -> dict[str, Any]:
    values = sorted(samples_ms)
    if not values:
        return {"p50": None, "p95": None, "p99": None, "count": 0}
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
            "p99": round(percentile(values, 99), 3), "count": len(values)}


def latency_finding(stats: Mapping[str, Any], subject: str, high_ms: float, critical_ms: float,
                    min_samples: int) -> list[Finding]:
    """`jobs.latency` HIGH above `high_ms`, CRITICAL above `critical_ms`, given enough samples."""
    p95 = stats.get("p95")
    if p95 is None or stats.get("count", 0) < min_samples or p95 <= high_ms:
        return []
    sev = Severity.CRITICAL if p95 > critical_ms else Severity.HIGH
    return [finding("jobs.latency", subject,
                    f"job p95 latency {p95:.0f} ms over {stats['count']} results",
                    {**stats, "high_ms": high_ms, "critical_ms": critical_ms}, severity=sev)]


def failed_rate(failed: int, results: int) -> float:
    """failed / results; every failure counts fully when there are no results."""
    if results <= 0:
        return 1.0 if failed else 0.0
    return failed / results


def failed_finding(failed: int, results: int, subject: str, high: float,
                   critical: float) -> list[Finding]:
    """`jobs.failed_notifications` HIGH above `high`, CRITICAL above `critical`."""
    rate = failed_rate(failed, results)
    if rate <= high:
        return []
    sev = Severity.CRITICAL if rate > critical else Severity.HIGH
    return [finding("jobs.failed_notifications", subject,
                    f"{failed} failed notifications for {results} results ({rate:.2%})",
                    {"failed": failed, "results": results, "rate": rate}, severity=sev)]
