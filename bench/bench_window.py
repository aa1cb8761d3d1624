"""Benchmark of the window area: series, heartbeat, verdict and final report at 72 h scale.

Each figure is measured against a baseline in the same run:
- Series.add (1-min buckets, bounded, JSONL append) vs a naive unbounded list + stdlib json
  append per call;
- Window.heartbeat (throttled atomic save) vs an atomic save on every call;
- the final report (json + md + html) of a 72 h window vs orjson of the same document alone;
- decide() on many alerts.
Writes its section to bench/results/window.md. `--quick` runs a small size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.clock import FakeClock, iso
from daemon.records import Episode, Figures, episodes
from daemon.report import document, write_reports
from daemon.window.series import Series
from daemon.window.store import WindowStore
from daemon.window.verdict import decide

DATA = Path(__file__).resolve().parent / "data" / "window"
RESULTS = Path(__file__).resolve().parent / "results" / "window.md"
T0 = 1_800_000_000.0


def status(i: int) -> dict:
    return {"host": {"cpu_percent": 10.0 + i % 7, "memory_percent": 40.0},
            "processes": {f"w{k}": {"rss_bytes": 5e7 + i * 1000, "cpu_percent": 1.0}
                          for k in range(3)},
            "jobs": {"pending": i % 5, "claimed": 1, "failed_rate": 0.0,
                     "latency_ms": {"p50": 40, "p95": 120 + i % 40, "p99": 300}},
            "locks": {"rate": 0.001}}


def fill(folder: Path, n: int, traced: bool = False) -> tuple[Series, float, int]:
    """Add n one-minute points; (series, seconds, traced bytes held when traced)."""
    shutil.rmtree(folder, ignore_errors=True)
    series = Series(folder, FakeClock(start=T0, scale=864.0))
    if traced:
        tracemalloc.start()
    t = time.perf_counter()
    for i in range(n):
        series.add(T0 + i * 60 / 864, status(i), {"HIGH": i % 2}, {"rss_bytes": 4e7})
    took = time.perf_counter() - t
    mem = tracemalloc.get_traced_memory()[0] if traced else 0
    tracemalloc.stop()
    series.save()
    return series, took, mem


def bench_series(n: int) -> dict:
    folder = DATA / "series"
    _, _, mem = fill(folder / "traced", n, traced=True)
    series, ours, _ = fill(folder, n)
    naive, base_path = [], folder / "naive.jsonl"
    t = time.perf_counter()
    with base_path.open("a") as fh:
        for i in range(n):
            naive.append({"t": T0 + i, "m": status(i)})
            fh.write(json.dumps(naive[-1]) + "\n")
    base = time.perf_counter() - t
    return {"n": n, "points": len(series.points()), "us_per_add": ours / n * 1e6,
            "base_us_per_add": base / n * 1e6, "mem_mb": mem / 1e6,
            "file_kb": (folder / "series.jsonl").stat().st_size / 1e3,
            "base_file_kb": base_path.stat().st_size / 1e3}


def bench_heartbeat(n: int) -> dict:
    folder = DATA / "hb"
    shutil.rmtree(folder, ignore_errors=True)
    clock = FakeClock(start=T0, scale=1.0)
    window = WindowStore(folder, clock).open(72 * 3600, 1.0)
    t = time.perf_counter()
    for i in range(n):
        window.heartbeat(T0 + i * 0.1)  # a supervisor tick every 0.1 real s
    ours = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(n):
        window.heartbeat_at = T0 + i * 0.1
        window.save()
    base = time.perf_counter() - t
    return {"n": n, "us_per_call": ours / n * 1e6, "base_us_per_call": base / n * 1e6}


def alerts(n: int) -> list[Episode]:
    sev = ("MEDIUM", "HIGH", "CRITICAL", "INFO")
    return episodes({"fingerprint": f"c|{i}", "status": "resolved", "code": "jobs.stale_claim",
             "severity": sev[i % 4], "kind": "condition", "subject": f"job-{i}",
             "message": "m", "runbook": "r", "first_seen": iso(T0 + i),
             "last_seen": iso(T0 + i), "resolved_at": iso(T0 + i + 2), "escalated_from": None,
             "evidence": {"job_id": f"job-{i}"}, "silenced": False,
             "silenced_before_fire": i % 10 == 0, "acked": False} for i in range(n))


def bench_report(points: int, n_alerts: int) -> dict:
    folder = DATA / "report"
    shutil.rmtree(folder, ignore_errors=True)
    clock = FakeClock(start=T0, scale=864.0)
    window = WindowStore(folder, clock).open(72 * 3600, 864.0)
    series = Series(folder / "s", clock)
    for i in range(points):
        series.add(T0 + i * 60 / 864, status(i), {"HIGH": 0}, {"rss_bytes": 4e7})
    window.finish(window.ends_at, "RED")
    fired = alerts(n_alerts)
    t = time.perf_counter()
    verdict = decide(fired, 1.0, status(0), time_scale=864.0)
    decide_s = time.perf_counter() - t
    st = Figures(metrics=status(0))
    t = time.perf_counter()
    paths = write_reports(folder / "out", "final", None, window, verdict, series.points(),
                          fired, st)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    doc = document.build("final", None, window, verdict, series.points(), fired, st, T0)
    (folder / "base.json").write_bytes(orjson.dumps(doc))
    base = time.perf_counter() - t
    return {"points": points, "alerts": n_alerts, "report_s": ours, "base_s": base,
            "decide_ms": decide_s * 1e3, "html_kb": paths["html"].stat().st_size / 1e3,
            "md_kb": paths["md"].stat().st_size / 1e3}


def markdown(args: argparse.Namespace, s: dict, h: dict, r: dict) -> str:
    ok = {
        "Series.add < 200 µs": s["us_per_add"] < 200,
        f"Series bounded (≤ 4,321 points for {s['n']} minutes)": s["points"] <= 4321,
        "heartbeat at 10/s costs ≤ 20 % of saving every call": h["us_per_call"]
        <= 0.2 * h["base_us_per_call"],
        "final report (json+md+html) of 72 h < 3 s": r["report_s"] < 3,
        "final.html < 2 MB": r["html_kb"] < 2000,
    }
    lines = [
        "## window", "",
        f"- machine: {platform.node()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}), shared with other engineers",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- command: `python bench/bench_window.py{' --quick' if args.quick else ''}`", "",
        "| figure | burnin | baseline (same run) |", "|---|---|---|",
        f"| Series.add, {s['n']} nominal minutes | {s['us_per_add']:.1f} µs/add, "
        f"{s['points']} points kept, {s['file_kb']:.0f} kB file, {s['mem_mb']:.1f} MB traced | "
        f"naive list + json append: {s['base_us_per_add']:.1f} µs/add, {s['n']} points, "
        f"{s['base_file_kb']:.0f} kB |",
        f"| Window.heartbeat, {h['n']} calls (10/s) | {h['us_per_call']:.1f} µs/call | "
        f"atomic save every call: {h['base_us_per_call']:.1f} µs/call |",
        f"| final report, {r['points']} points, {r['alerts']} alerts | {r['report_s']:.2f} s "
        f"(html {r['html_kb']:.0f} kB, md {r['md_kb']:.0f} kB) | orjson of the document only: "
        f"{r['base_s']:.2f} s |",
        f"| decide(), {r['alerts']} alerts | {r['decide_ms']:.1f} ms | — |", "",
        "Targets:", "",
    ]
    lines += [f"- [{'x' if v else ' '}] {k}" for k, v in ok.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    minutes = 720 if args.quick else 7 * 24 * 60
    s = bench_series(minutes)
    h = bench_heartbeat(3000 if args.quick else 20000)
    r = bench_report(720 if args.quick else 4320, 100 if args.quick else 2000)
    text = markdown(args, s, h, r)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
