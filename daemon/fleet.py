"""`burnin fleet`: the fleet's burn-in table, read from Prometheus's HTTP API.

Every burnin exposes its verdict, window and open alerts labelled by `system` and `host`
(daemon/service/metrics.py); Prometheus scrapes them all. This module asks Prometheus a few
instant queries (`/api/v1/query`), folds the answers into one row per host (`build`, pure)
and prints the table with the fleet verdict on top: the worst host wins, and a host whose
burnin stopped reporting (no status update for `--stale-after` while its window was not
completed) makes the fleet at least YELLOW, since nothing is known of it since.

Exit codes: 0 GREEN, 1 YELLOW, 2 RED, 3 Prometheus could not be asked (or knows no burnin).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemon.clock import iso

DEFAULT_URL = "http://127.0.0.1:9090"
URL_ENV = "BURNIN_PROMETHEUS_URL"
LOOKBACK = "1h"  # a host that went quiet stays in the table (and the verdict) this long
VERDICTS = ("GREEN", "YELLOW", "RED")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "INFO")
UNKNOWN = 3

# What is asked, by name: each an instant vector whose labels carry system/host/instance.
QUERIES = {
    "seen": "max_over_time(burnin_status_updated_timestamp_seconds{sel}[{lb}])",
    "verdict": "last_over_time(burnin_verdict_code{sel}[{lb}])",
    "progress": "last_over_time(burnin_window_progress_ratio{sel}[{lb}])",
    "coverage": "last_over_time(burnin_window_coverage_ratio{sel}[{lb}])",
    "alerts": "last_over_time(burnin_alerts_open{sel}[{lb}])",
    "completed": "last_over_time(burnin_window_phase{sel_completed}[{lb}])",
}

Sample = tuple[dict[str, str], float]


class FleetError(Exception):
    """Prometheus could not be asked, or its answer was not a query result."""


@dataclass
class Row:
    """One burnin host of the fleet."""

    system: str
    host: str
    instance: str = ""
    verdict: str = "UNKNOWN"
    progress: float | None = None
    coverage: float | None = None
    alerts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    last_seen: float | None = None
    age_s: float | None = None
    completed: bool = False
    stale: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "host": self.host, "instance": self.instance,
                "verdict": self.verdict, "stale": self.stale, "completed": self.completed,
                "window_progress": self.progress, "coverage": self.coverage,
                "alerts_open": self.alerts, "last_seen": iso(self.last_seen),
                "last_seen_age_s": None if self.age_s is None else round(self.age_s, 1)}


@dataclass
class Fleet:
    verdict: str
    rows: list[Row]
    now: float
    summary: str


# -- asking Prometheus ---------------------------------------------------------------------


def selector(system: str | None, extra: str = "") -> str:
    """A PromQL label selector for `system` (quoted safely) plus `extra` matchers."""
    parts = [f"system={json.dumps(system)}"] if system else []
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def queries(system: str | None, lookback: str = LOOKBACK) -> dict[str, str]:
    sel, done = selector(system), selector(system, 'phase="completed"')
    return {k: q.replace("{sel_completed}", done).replace("{sel}", sel).replace("{lb}", lookback)
            for k, q in QUERIES.items()}


def ask(url: str, exprs: Mapping[str, str], timeout_s: float = 10.0
        ) -> tuple[dict[str, list[Sample]], float]:
    """Run each instant query; returns the samples by name and Prometheus's evaluation time."""
    import httpx

    out: dict[str, list[Sample]] = {}
    now = 0.0
    try:
        with httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s) as client:
            for name, expr in exprs.items():
                resp = client.get("/api/v1/query", params={"query": expr})
                out[name], at = parse_answer(resp.status_code, resp.content)
                now = max(now, at)
    except httpx.HTTPError as exc:
        raise FleetError(f"cannot ask Prometheus at {url}: {exc or type(exc).__name__}") from exc
    return out, now or time.time()


def parse_answer(status: int, body: bytes) -> tuple[list[Sample], float]:
    """The samples of one `/api/v1/query` answer and its evaluation time (0 if empty)."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise FleetError(f"Prometheus answered HTTP {status} with no JSON") from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error") if isinstance(doc, dict) else None
        raise FleetError(f"Prometheus refused the query (HTTP {status}): {error or doc!r:.200}")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        raise FleetError("Prometheus answered something other than an instant vector")
    samples, at = [], 0.0
    for item in data.get("result") or []:
        try:
            ts, value = item["value"]
            samples.append(({str(k): str(v) for k, v in item["metric"].items()}, float(value)))
            at = max(at, float(ts))
        except (KeyError, TypeError, ValueError):
            continue  # one odd sample does not spoil the table
    return samples, at


# -- the table (pure) ----------------------------------------------------------------------


def build(results: Mapping[str, list[Sample]], now: float, stale_after_s: float) -> Fleet:
    """One row per (system, host) from the query answers; the fleet verdict on top."""
    rows: dict[tuple[str, str], Row] = {}

    def row(labels: Mapping[str, str]) -> Row:
        key = (labels.get("system", ""), labels.get("host") or labels.get("instance", "?"))
        if key not in rows:
            rows[key] = Row(system=key[0], host=key[1], instance=labels.get("instance", ""))
        return rows[key]

    for labels, v in results.get("seen", []):
        r = row(labels)
        r.last_seen = v if r.last_seen is None else max(r.last_seen, v)
    for labels, v in results.get("verdict", []):
        r = row(labels)
        r.verdict = worse(r.verdict, verdict_name(v))
    for labels, v in results.get("progress", []):
        row(labels).progress = v
    for labels, v in results.get("coverage", []):
        row(labels).coverage = v
    for labels, v in results.get("alerts", []):
        sev = labels.get("severity", "")
        if sev in SEVERITIES:
            row(labels).alerts[sev] = int(v)
    for labels, v in results.get("completed", []):
        row(labels).completed = v == 1
    for r in rows.values():
        judge(r, now, stale_after_s)
    ordered = sorted(rows.values(), key=lambda r: (-rank(r.verdict), not r.stale, r.system,
                                                   r.host))
    verdict = fleet_verdict(ordered)
    return Fleet(verdict=verdict, rows=ordered, now=now, summary=summary(ordered))


def verdict_name(code: float) -> str:
    return VERDICTS[int(code)] if code in (0, 1, 2) else "UNKNOWN"


def rank(verdict: str) -> int:
    """GREEN 0 < YELLOW 1 < RED 2; UNKNOWN ranks as YELLOW (nothing proves it green)."""
    return VERDICTS.index(verdict) if verdict in VERDICTS else 1


def worse(a: str, b: str) -> str:
    if a == "UNKNOWN":
        return b
    if b == "UNKNOWN":
        return a
    return a if rank(a) >= rank(b) else b


def judge(r: Row, now: float, stale_after_s: float) -> None:
    """A row's age, and whether its burnin stopped reporting before its window completed."""
    r.age_s = None if r.last_seen is None else max(0.0, now - r.last_seen)
    r.stale = not r.completed and (r.age_s is None or r.age_s > stale_after_s)


def fleet_verdict(rows: list[Row]) -> str:
    """Worst host wins; a stale or unknown host makes the fleet at least YELLOW."""
    if not rows:
        return "UNKNOWN"
    worst = max(rank(r.verdict) for r in rows)
    if any(r.stale or r.verdict not in VERDICTS for r in rows):
        worst = max(worst, 1)
    return VERDICTS[worst]


def summary(rows: list[Row]) -> str:
    if not rows:
        return "no burnin reports to this Prometheus (is it scraping [metrics] listen?)"
    counts = [f"{sum(1 for r in rows if r.verdict == v)} {v}" for v in reversed(VERDICTS)]
    unknown = sum(1 for r in rows if r.verdict not in VERDICTS)
    stale = sum(1 for r in rows if r.stale)
    parts = [f"{len(rows)} host(s): " + ", ".join(counts)]
    if unknown:
        parts[0] += f", {unknown} UNKNOWN"
    if stale:
        parts[0] += f", {stale} stale"
    red = [r.host for r in rows if r.verdict == "RED"]
    if red:
        parts.append("RED: " + ", ".join(red))
    return "; ".join(parts)


# -- output --------------------------------------------------------------------------------


def exit_code(verdict: str) -> int:
    return VERDICTS.index(verdict) if verdict in VERDICTS else UNKNOWN


def text(fleet: Fleet) -> str:
    lines = [safe(f"FLEET {fleet.verdict} - {fleet.summary}")]
    if not fleet.rows:
        return lines[0]
    table = [("SYSTEM", "HOST", "VERDICT", "WINDOW", "COVERAGE", "OPEN C/H/M/I", "LAST SEEN")]
    for r in fleet.rows:
        table.append((r.system, r.host, r.verdict + (" (stale)" if r.stale else ""),
                      _pct(r.progress), _pct(r.coverage),
                      "/".join(str(r.alerts[s]) for s in SEVERITIES), _ago(r.age_s)))
    widths = [max(len(safe(row[i])) for row in table) for i in range(len(table[0]))]
    for row in table:
        lines.append("  ".join(safe(c).ljust(w) for c, w in zip(row, widths, strict=True))
                     .rstrip())
    return "\n".join(lines)


def document(fleet: Fleet, url: str) -> dict[str, Any]:
    return {"schema": "burnin.fleet/1", "prometheus": url, "checked_at": iso(fleet.now),
            "verdict": fleet.verdict, "summary": fleet.summary,
            "hosts": [r.to_dict() for r in fleet.rows]}


def safe(value: object) -> str:
    """Label values from Prometheus made safe for a terminal (no control characters)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(value))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _ago(age_s: float | None) -> str:
    if age_s is None:
        return "never"
    if age_s < 120:
        return f"{age_s:.0f}s ago"
    if age_s < 7200:
        return f"{age_s / 60:.0f}m ago"
    return f"{age_s / 3600:.1f}h ago"


# -- the command ---------------------------------------------------------------------------


SUMMARY = ("the fleet's burn-in table from Prometheus: one row per burnin host, the fleet "
           "verdict on top")
DESCRIPTION = """\
Asks Prometheus (instant queries on /api/v1/query) about every burnin it scrapes and prints
one row per host: verdict, window progress, coverage, open alerts by tier (CRITICAL/HIGH/
MEDIUM/INFO) and when it last reported, with the fleet verdict on top. The worst host wins;
a host whose burnin stopped reporting (no status update for --stale-after while its window
was not completed) makes the fleet at least YELLOW. A host that went quiet stays listed for
an hour."""
CODES = ("0 GREEN, 1 YELLOW, 2 RED (the fleet verdict), 3 Prometheus could not be asked or "
         "knows no burnin, 64 bad arguments")
EXAMPLE = "burnin fleet --prometheus http://prometheus:9090 --system payments"


def add_parser(sub: Any) -> None:
    """Register `burnin fleet` on the CLI's subparsers (daemon/cliargs.py)."""
    from daemon.durations import duration_arg as duration

    p = sub.add_parser("fleet", help=SUMMARY, description=DESCRIPTION,
                       epilog=f"exit codes: {CODES}\n\nexample:\n  {EXAMPLE}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prometheus", metavar="URL", default=None,
                   help=f"Prometheus base URL (default: ${URL_ENV} or {DEFAULT_URL})")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: verdict line and table; json: a burnin.fleet/1 document")
    p.add_argument("--system", metavar="NAME",
                   help="only hosts of this system ([system] name); default: every system")
    p.add_argument("--stale-after", metavar="DUR", type=duration, default=300.0,
                   help="a host with no status update for this long (window not completed) "
                   "is stale and makes the fleet at least YELLOW (default 5m)")
    p.add_argument("--timeout", metavar="DUR", type=duration, default=10.0,
                   help="give up on Prometheus after this long per query (default 10s; exit 3)")


def cmd(args: argparse.Namespace) -> int:
    url = args.prometheus or os.environ.get(URL_ENV) or DEFAULT_URL
    try:
        results, now = ask(url, queries(args.system), args.timeout)
    except FleetError as exc:
        return _unknown(args.format, url, str(exc))
    fleet = build(results, now, args.stale_after)
    if args.format == "json":
        print(json.dumps(document(fleet, url), indent=2, ensure_ascii=False))
    else:
        print(text(fleet))
    return exit_code(fleet.verdict)


def _unknown(fmt: str, url: str, problem: str) -> int:
    if fmt == "json":
        print(json.dumps({"schema": "burnin.fleet/1", "prometheus": url, "verdict": "UNKNOWN",
                          "error": problem, "hosts": []}, indent=2, ensure_ascii=False))
    else:
        print(safe(f"FLEET UNKNOWN - {problem}"))
    return UNKNOWN
