"""The report as one self-contained HTML file: tables plus uPlot charts, no network.

uPlot (MIT, vendored `uplot.min.js`) and the template are read from package data only when a
report is rendered, so the daemon does not carry them in memory between reports. Every string
goes through `html.escape`; the chart data is embedded as JSON with `<`, `>`, `&` written as
unicode escapes, so no text from the observed tree can close a tag or start a script.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any

import orjson

from daemon.clock import parse_timestamp
from daemon.report import markdown as md
from daemon.report.document import by_code, issue_groups

PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037",
           "#ad1457", "#455a64", "#9e9d24")
TIER_COLORS = {"CRITICAL": "#c62828", "HIGH": "#ef6c00", "MEDIUM": "#c79100"}


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def render(doc: dict[str, Any]) -> str:
    """The whole HTML page of a report document."""
    template = _asset("template.html")
    body = "\n".join([_head(doc), _summary(doc), _charts_html(), _reasons(doc), _issues(doc),
                      _deadlines(doc), _coverage(doc), _excluded(doc)])
    title = f"burnin {doc['kind']} report {doc['window']['id']}: {doc['verdict']['color']}"
    return (template.replace("<!--TITLE-->", e(title))
            .replace("<!--DATA-->", script_json(charts(doc)))
            .replace("<!--UPLOT-->", _asset("uplot.min.js")).replace("<!--BODY-->", body))


def _asset(name: str) -> str:
    return resources.files("daemon.report").joinpath(name).read_text(encoding="utf-8")


def script_json(obj: object) -> str:
    """JSON safe inside a <script> element (no `</script>`, no `<!--`)."""
    text = orjson.dumps(obj).decode()
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


CHARTS = (
    ("chart-rss", "Memory (RSS)", "MB"), ("chart-cpu", "CPU", "%"),
    ("chart-latency", "Job latency", "ms"), ("chart-queue", "Queue depth", "jobs"),
    ("chart-alerts", "Alert timeline (alerts open per tier)", "alerts"),
)


def _line(label: str, values: list, i: int) -> dict[str, Any]:
    return {"label": label, "values": values, "color": PALETTE[i % len(PALETTE)]}


def charts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The data of the five charts, x = window hours (nominal) since the start."""
    w = doc["window"]
    start = parse_timestamp(w["started_at"]) or 0.0
    points = with_gaps(doc["series"], w.get("downtime", []))
    x = [round((p["t"] - start) * w["time_scale"] / 3600, 4) for p in points]
    procs = sorted({n for p in points for n in p.get("procs", {})})

    def col(key: str) -> list:
        return [p.get(key) for p in points]

    def proc(name: str, key: str) -> list:
        return [(p.get("procs", {}).get(name) or {}).get(key) for p in points]

    rss = [_line("burnin", col("daemon_rss_mb"), 0)]
    rss += [_line(n, proc(n, "rss_mb"), i + 1) for i, n in enumerate(procs)]
    cpu = [_line("host", col("host_cpu"), 0), _line("burnin", col("daemon_cpu"), 1)]
    cpu += [_line(n, proc(n, "cpu"), i + 2) for i, n in enumerate(procs)]
    lat = [_line(k, col(k), i) for i, k in enumerate(("p50", "p95", "p99"))]
    queue = [_line(k, col(k), i) for i, k in enumerate(("pending", "claimed"))]
    alerts = [{"label": t, "values": [p.get("alerts", {}).get(t) for p in points],
               "color": c} for t, c in TIER_COLORS.items()]
    data = (rss, cpu, lat, queue, alerts)
    return [{"id": cid, "title": title, "unit": unit, "x": x, "series": s,
             "step": cid == "chart-alerts"} for (cid, title, unit), s in zip(CHARTS, data,
                                                                              strict=True)]


def with_gaps(points: list[dict], downtime: list[dict]) -> list[dict]:
    """Points with an empty one inserted where the daemon was down (the window's recorded
    downtime), so charts show a break there instead of a line bridging the outage. Point
    spacing alone says nothing: at a high time scale every step spans many nominal minutes."""
    starts = sorted(t for d in downtime if (t := parse_timestamp(d.get("from"))) is not None)
    out: list[dict] = []
    for p in points:
        if out and any(out[-1]["t"] <= s < p["t"] for s in starts):
            out.append({"t": (p["t"] + out[-1]["t"]) / 2, "procs": {}, "alerts": {}})
        out.append(p)
    return out


def _charts_html() -> str:
    divs = "".join(f'<div class="chart" id="{cid}"></div>' for cid, _, _ in CHARTS)
    return f'<h2>Charts</h2><div class="charts">{divs}</div>'


def _table(head: tuple[str, ...], rows: list[list[str]]) -> str:
    """A table; cells in `rows` must already be escaped."""
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _head(doc: dict[str, Any]) -> str:
    w, v = doc["window"], doc["verdict"]
    kind = e(md.TITLES.get(doc["kind"], "Burn-In Report").format(n=doc.get("n")))
    return (f"<h1>{kind}</h1><p>Window <code>{e(w['id'])}</code> · {md.hours(w['elapsed_s'])} "
            f"of {md.hours(w['duration_s'])} · time scale {md.figure(w['time_scale'])} · phase "
            f"{e(w['phase'])} · generated {e(doc['generated_at'])}</p>"
            f'<p><span class="badge {e(v["color"])}">{e(v["color"])} — {e(v["label"])}</span>'
            + (' <span class="badge INTERIM">INTERIM</span>' if doc.get("interim") else "")
            + f" &nbsp; coverage {md.pct(w['coverage'])}</p>"
            + (f'<p class="interim">{e(doc["interim_note"])}</p>' if doc.get("interim_note")
               else "")
            + (f"<p>Alerts read from: {e(doc['alert_source'])}</p>" if doc.get("alert_source")
               else "")
            + f"<p>{e(doc['recommendation'])}</p>")


def _summary(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    counts = [["State corruptions", e(s["state_corruptions"])],
              ["Duplicate jobs", e(s["duplicate_jobs"])],
              ["Jobs done / failed", f"{e(s['jobs_done'])} / {e(s['jobs_failed'])}"],
              ["Window peak queue (pending)", e(md.figure(s.get("peak_pending")))]]
    graded = [[e(f["label"]), e(md.value_text({**f, "value": f.get("last", f.get("value"))})),
               e(md.value_text({**f, "value": f.get("worst")})),
               f'<span class="band-{e(f["band"])}">{e(f["band"])}</span>',
               md.alert_text(f, e)]
              for f in doc["verdict"]["figures"]]
    return ("<h2>Metrics</h2><p>Each figure: its last value, the worst seen in the window, and "
            "a band never better than the alert that fired for it.</p>"
            + _table(("figure", "last", "worst in window", "band", "alert fired"), graded)
            + _table(("count", "value"), counts))


def _reasons(doc: dict[str, Any]) -> str:
    reasons = doc["verdict"]["reasons"]
    if not reasons:
        return "<h2>Reasons for the verdict</h2><p>No CRITICAL or HIGH alert; full coverage.</p>"
    rows = []
    for r, more in by_code(reasons):
        rows.append([f'<span class="sev-{e(r["severity"])}">{e(r["severity"])}</span>',
                     f"<code>{e(r['code'])}</code>", e(r["subject"]), e(r["message"]),
                     f'<code class="evidence">'
                     f"{e(orjson.dumps(r['evidence'], default=str).decode())}</code>"])
        if more > 0:
            rows.append(["", "", "", f"… and {more} more (all in the JSON report)", ""])
    return "<h2>Reasons for the verdict</h2>" + _table(
        ("severity", "code", "subject", "message", "evidence"), rows)


def _issues(doc: dict[str, Any]) -> str:
    rows = [[f'<span class="sev-{e(g["severity"])}">{e(g["severity"])}</span>',
             f"<code>{e(g['code'])}</code>",
             e(md.alert_counts(g)),
             e(", ".join(g["subjects"]) + (" …" if g["count"] > len(g["subjects"]) else "")),
             f"{e(g['message'])}<details><summary>runbook</summary>{e(g['runbook'])}</details>",
             e(g["first_seen"]), e(g["action"])]
            for g in issue_groups(doc["issues"])]
    if not rows:
        return "<h2>Issues found</h2><p>None.</p>"
    return ("<h2>Issues found</h2><p>Alerts: how many fired, how many are still open (an "
            "event is never open), and how many were silenced before they fired (expected: "
            "planned, not counted in the verdict).</p>") + _table(
        ("severity", "code", "alerts", "subjects", "message", "first seen", "action"), rows)


def _deadlines(doc: dict[str, Any]) -> str:
    deadline = {"CRITICAL": "ack or resolve", "HIGH": "1 h", "MEDIUM": "4 h"}
    rows = [[e(t), deadline.get(t, ""), *(e(row[k]) for k in (
        "fired", "events", "resolved_within_deadline", "late", "open"))]
        for t, row in doc["verdict"]["tiers"].items()]
    return "<h2>Alerts resolved within their deadline</h2>" + _table(
        ("tier", "deadline", "fired", "events", "within", "late", "open"), rows)


def _coverage(doc: dict[str, Any]) -> str:
    w = doc["window"]
    gaps = [[e(g["from"]), e(g["to"]), e(g["real_s"]), e(md.hours(g["nominal_s"]))]
            for g in w["downtime"]]
    checks = [[e(k), e(c["runs"]), e(c["failed"]), e(c["missed"])] for k, c in w["checks"].items()]
    return (f"<h2>Coverage</h2><p>Restarts: {e(w['restarts'])}; downtime "
            f"{e(md.hours(w['downtime_nominal_s']))} of window time.</p>"
            + (_table(("down from", "to", "real s", "window time"), gaps) if gaps else "")
            + _table(("check", "runs", "failed", "missed"), checks))


def _excluded(doc: dict[str, Any]) -> str:
    rows = [[e(r["severity"]), f"<code>{e(r['code'])}</code>", e(r["subject"]), e(r["message"])]
            for r in doc["verdict"]["excluded"]]
    if not rows:
        return ""
    return "<h2>Silenced before firing (expected, not counted)</h2>" + _table(
        ("severity", "code", "subject", "message"), rows)
