"""Alert storms (issue 18 item 7): 100,000 pending job files under a running daemon.

A real folder of N job files, all older than `jobs.pending_after`, is laid out before the
daemon starts; the real `burnin run` (subprocess) watches it for a fixed real time. Sampled
every 0.5 s: the daemon's RSS (peak) and CPU; at the end: size of logs/alerts.jsonl, of the
SQLite alert store (+ WAL), of the spot reports, and how many alert records were written.

    python bench/bench_storm.py                 # 100,000 files, 90 s
    python bench/bench_storm.py --files 20000 --seconds 40
    python bench/bench_storm.py --baseline REV  # also run git revision REV (same machine, same run)

Writes bench/results/storm.md and reassembles bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.run import assemble  # noqa: E402
from bench.tree import seed_tree  # noqa: E402

RESULTS = REPO / "bench" / "results" / "storm.md"
JOB = b'{"job_id": "%d", "created_at": "2026-01-01T00:00:00Z", "payload": "x"}'


def make_tree(base: Path, files: int) -> Path:
    root = seed_tree(base)
    out = root / "data/webrelay_out"
    for n in range(files):
        (out / f"job-{n:06d}.job.json").write_bytes(JOB % n)
    return root


def run_daemon(repo: Path, root: Path, work: Path, seconds: float) -> dict:
    """One daemon run: peak RSS, CPU and the files it left."""
    cfg = work / "burnin.toml"
    cfg.write_text(f"[system]\nroot = '{root}'\n[window]\ntime_scale = 60\n"
                   "spot_check_every = '10m'\n"
                   "[jobs]\npending_after = '1m'\nrescan_every = '20s'\n")
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "run", "--config", str(cfg)],
                            cwd=work, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ps = psutil.Process(proc.pid)
    peak, samples, started = 0, [], time.monotonic()
    cpu0 = None
    while time.monotonic() - started < seconds and proc.poll() is None:
        try:
            rss = ps.memory_info().rss
            t = ps.cpu_times()
        except psutil.Error:
            break
        cpu0 = cpu0 if cpu0 is not None else (time.monotonic(), t.user + t.system)
        peak = max(peak, rss)
        samples.append(rss)
        time.sleep(0.5)
    t = ps.cpu_times()
    cpu = (t.user + t.system - cpu0[1]) / max(1e-9, time.monotonic() - cpu0[0]) * 100
    final_rss = samples[-1] if samples else 0
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return {"peak_rss_mb": peak / 2**20, "final_rss_mb": final_rss / 2**20, "cpu_pct": cpu,
            "exit": proc.returncode, **_files(work)}


def _size(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths if p.exists()) / 2**20


def _files(work: Path) -> dict:
    alerts = work / "logs/alerts.jsonl"
    records = 0
    if alerts.exists():
        with alerts.open("rb") as fh:
            records = sum(1 for _ in fh)
    status = json.loads((work / "runtime/status.json").read_text()) \
        if (work / "runtime/status.json").exists() else {}
    db = sorted((work / "runtime").glob("alerts.sqlite3*"))
    reports = sorted((work / "runtime").rglob("spot-*")) + sorted(
        (work / "runtime").rglob("final.*"))
    return {"alerts_jsonl_mb": _size([alerts]), "alert_lines": records,
            "sqlite_mb": _size(db), "reports_mb": _size(reports),
            "open_alerts": len(status.get("alerts", {}).get("open", [])),
            "pending_seen": status.get("metrics", {}).get("jobs", {}).get("pending")}


def checkout(rev: str, into: Path) -> Path:
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(into), rev],
                   check=True, capture_output=True)
    return into


def row(name: str, r: dict) -> str:
    return (f"| {name} | {r['peak_rss_mb']:.0f} | {r['final_rss_mb']:.0f} | {r['cpu_pct']:.0f} "
            f"| {r['alert_lines']:,} | {r['alerts_jsonl_mb']:.1f} | {r['sqlite_mb']:.1f} "
            f"| {r['reports_mb']:.2f} | {r['open_alerts']:,} | {r['pending_seen']} "
            f"| {r['exit']} |")


def report(args: argparse.Namespace, results: dict[str, dict], load: float) -> str:
    head = ("| run | peak RSS MB | final RSS MB | CPU % | alerts.jsonl lines | alerts.jsonl MB "
            "| SQLite MB (+WAL) | reports MB | open alerts | pending seen | exit |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|")
    target = results["burnin"]["peak_rss_mb"] < 300
    return "\n".join([
        "## storm — 100,000 pending job files (issue 18 item 7)", "",
        f"- machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- command: `python bench/bench_storm.py --files {args.files} --seconds "
        f"{args.seconds:g}" + (f" --baseline {args.baseline}`" if args.baseline else "`"),
        f"- load: other helpers were using the machine (1-min load average {load:.1f} at the "
        "start)",
        f"- data: {args.files:,} job files (all pending longer than `jobs.pending_after`) in "
        f"one folder before the daemon starts; the daemon runs {args.seconds:g} s real "
        "(time scale 60), sampled every 0.5 s", "",
        head, *(row(name, r) for name, r in results.items()), "",
        f"Target: peak RSS < 300 MB with bounded files: "
        f"{'met' if target else 'NOT met'} ({results['burnin']['peak_rss_mb']:.0f} MB). "
        f"With `alerts.max_subjects_per_code` = 100, at most 100 subjects of one code fire "
        "one by one; the rest is one aggregated alert per code (\"… and N more\").", ""])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=90.0)
    p.add_argument("--baseline", help="git revision measured the same way in the same run")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.files, args.seconds = 5_000, 30.0
    load = os.getloadavg()[0]
    base = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    results: dict[str, dict] = {}
    try:
        root = make_tree(base, args.files)
        if args.baseline:
            repo = checkout(args.baseline, base / "baseline")
            (base / "w-base").mkdir()
            results[f"baseline {args.baseline}"] = run_daemon(repo, root, base / "w-base",
                                                              args.seconds)
            print("baseline", results[f"baseline {args.baseline}"], flush=True)
        (base / "w").mkdir()
        results["burnin"] = run_daemon(REPO, root, base / "w", args.seconds)
        print("burnin", results["burnin"], flush=True)
    finally:
        if args.baseline:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                            str(base / "baseline")], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    RESULTS.write_text(report(args, results, load))
    assemble()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
