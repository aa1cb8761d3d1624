"""Benchmarks of the job-folder source (issue 3), each against a baseline of the same run.

    python bench/bench_jobs.py [--quick]

1. job->claim->result cycles written as fast as a writer process can: every job accounted for,
   zero false stale claims; events/s and daemon CPU seconds (baseline: the writer alone).
2. one-shot check of results + pending + claims vs a plain os.scandir walk (the floor).
3. stale-claim detection delay after the threshold over 100 claims.
4. daemon RSS with a 100,000-file index (baseline: the same process before the index).
Writes bench/results/jobs.md. Generated trees live under bench/data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import structlog  # noqa: E402

from daemon.checks.base import Env, Tick  # noqa: E402
from daemon.checks.jobs_rates import JobsRates  # noqa: E402
from daemon.checks.jobs_watch import JobsWatch  # noqa: E402
from daemon.clock import SystemClock  # noqa: E402
from daemon.config import load_config  # noqa: E402
from daemon.sources.registry import SourceHub  # noqa: E402

DATA = HERE / "data" / "jobs"
OUT, IN, FAILED = "data/webrelay_out", "data/webrelay_in", "data/failed_reports"
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))


def make_env(root: Path, oneshot: bool, scale: float = 1.0, **jobs: object) -> Env:
    cfg = load_config(root=str(root), overrides={"jobs": jobs} if jobs else None)
    hub = SourceHub()
    env = Env(cfg=cfg, clock=SystemClock(scale), sources=hub, log=structlog.get_logger(),
              oneshot=oneshot)
    hub.bind(env)
    return env


def fresh_tree(name: str) -> Path:
    root = DATA / name
    shutil.rmtree(root, ignore_errors=True)
    for sub in (OUT, IN, FAILED):
        (root / sub).mkdir(parents=True)
    return root


# -- 1. cycles ------------------------------------------------------------------------------

WRITER = r"""
import json, os, sys, time
root, n = sys.argv[1], int(sys.argv[2])
out, inn = os.path.join(root, "data/webrelay_out"), os.path.join(root, "data/webrelay_in")
t0 = time.perf_counter()
for i in range(n):
    job = os.path.join(out, f"c{i}.job.json")
    with open(job, "w") as fh:
        fh.write(json.dumps({"created_at": time.time()}))
    claim = job + ".claimed"
    os.rename(job, claim)
    with open(os.path.join(inn, f"c{i}.result.json.tmp"), "w") as fh:
        fh.write(json.dumps({"job_id": f"c{i}", "completed_at": time.time()}))
    os.rename(os.path.join(inn, f"c{i}.result.json.tmp"), os.path.join(inn, f"c{i}.result.json"))
    os.unlink(claim)
print(time.perf_counter() - t0)
"""


def run_writer(root: Path, n: int) -> float:
    out = subprocess.run([sys.executable, "-c", WRITER, str(root), str(n)], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip())


async def bench_cycles(n: int) -> dict:
    base_s = run_writer(fresh_tree("cycles-base"), n)
    root = fresh_tree("cycles")
    env = make_env(root, oneshot=False, scale=150.0)  # stale limit 5m -> 2 real seconds
    rule = JobsWatch(env)
    stale: set[str] = set()

    async def emit(found: list) -> None:
        stale.update(f.subject for f in found if f.code == "jobs.stale_claim")

    cpu0, t0 = time.process_time(), time.perf_counter()
    task = asyncio.create_task(rule.serve(emit))
    while not rule.src.watching:
        await asyncio.sleep(0.01)
    writer_s = await asyncio.to_thread(run_writer, root, n)
    while rule.src.index.counts()["done"] < n and time.perf_counter() - t0 < writer_s + 30:
        await asyncio.sleep(0.05)
    caught_up = time.perf_counter() - t0
    await asyncio.sleep(2.5)  # past the stale limit: any false stale claim would fire now
    tick = Tick("jobs", env.clock.time())
    found = await rule.run(tick)
    cpu = time.process_time() - cpu0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    counts = rule.src.index.counts()
    return {"n": n, "writer_alone_s": base_s, "writer_watched_s": writer_s,
            "caught_up_s": caught_up, "events": rule.src.stats["events"],
            "events_per_s": rule.src.stats["events"] / caught_up, "daemon_cpu_s": cpu,
            "missed": rule.src.stats["missed"], "counts": counts,
            "false_stale": len(stale) + sum(f.code == "jobs.stale_claim" for f in found),
            "ok": counts == {"pending": 0, "claimed": 0, "done": n, "failed": 0}}


# -- 2. one-shot check ----------------------------------------------------------------------

def build_check_tree(results: int, pending: int, claims: int) -> Path:
    root = DATA / f"check-{results}"
    marker = root / ".complete"
    if marker.exists():
        return root
    root = fresh_tree(f"check-{results}")
    now = time.time()
    for i in range(results):
        (root / IN / f"r{i:06d}.result.json").write_text(json.dumps(
            {"job_id": f"r{i:06d}", "created_at": now - 60, "completed_at": now - 59.9}))
    for i in range(pending):
        (root / OUT / f"p{i:05d}.job.json").write_text(json.dumps({"created_at": now - 5}))
    for i in range(claims):
        (root / OUT / f"k{i:05d}.job.json.claimed").write_text("")
    marker.write_text("")
    return root


def floor_listing(root: Path) -> int:
    n = 0
    for sub in (OUT, IN, FAILED):
        with os.scandir(root / sub) as it:
            n += sum(1 for _ in it)
    return n


def floor_reading(root: Path) -> int:
    n = 0
    for sub in (OUT, IN, FAILED):
        with os.scandir(root / sub) as it:
            for e in it:
                e.stat()
                with open(e.path, "rb") as fh:
                    n += len(fh.read())
    return n


async def oneshot(root: Path) -> list:
    env = make_env(root, oneshot=True)
    found = await JobsWatch(env).run(Tick("jobs", env.clock.time()))
    return found + await JobsRates(env).run(Tick("position", env.clock.time()))


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_check(results: int, pending: int, claims: int) -> dict:
    root = build_check_tree(results, pending, claims)
    floor_reading(root)  # warm the page cache for everyone
    found: list = []
    listing = best(lambda: floor_listing(root))
    reading = best(lambda: floor_reading(root))
    check = best(lambda: found.__setitem__(slice(None), asyncio.run(oneshot(root))))
    return {"files": results + pending + claims, "floor_listing_s": listing,
            "floor_reading_s": reading, "check_s": check, "x_listing": check / listing,
            "x_reading": check / reading, "findings": [f.code for f in found]}


# -- 3. stale-claim detection delay ---------------------------------------------------------

async def bench_stale(n: int) -> dict:
    root = fresh_tree("stale")
    env = make_env(root, oneshot=False, scale=1.0, stale_claim_after=3.0)
    rule = JobsWatch(env)
    seen: dict[str, float] = {}

    async def emit(found: list) -> None:
        t = time.time()
        for f in found:
            if f.code == "jobs.stale_claim":
                seen.setdefault(f.subject, t)

    task = asyncio.create_task(rule.serve(emit))
    while not rule.src.watching:
        await asyncio.sleep(0.01)
    now = time.time()
    crossing = {}
    for i in range(n):  # thresholds crossed over the next ~3 seconds, 100 distinct instants
        claimed_at = now - 3.0 + 1.0 + i * 0.02
        (root / OUT / f"s{i}.claimed").write_text(json.dumps({"claimed_at": claimed_at}))
        crossing[f"{OUT}/s{i}.claimed"] = claimed_at + 3.0
    while len(seen) < n and time.time() < now + 10:
        await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    delays = [(seen[s] - crossing[s]) * 1000 for s in crossing if s in seen]
    return {"n": n, "detected": len(delays), "median_ms": statistics.median(delays),
            "max_ms": max(delays), "min_ms": min(delays)}


# -- 4. RSS ---------------------------------------------------------------------------------

def rss_child(root: str) -> None:
    import psutil

    proc = psutil.Process()
    before = proc.memory_info().rss
    env = make_env(Path(root), oneshot=False)
    src = env.sources.get("jobs")
    asyncio.run(src.rescan())
    after = proc.memory_info().rss
    print(json.dumps({"before_mb": before / 2**20, "after_mb": after / 2**20,
                      "indexed": sum(src.index.counts().values())}))


def bench_rss(root: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--rss-child", str(root)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- report ---------------------------------------------------------------------------------

def report(args: argparse.Namespace, cyc: dict, chk: dict, stl: dict, rss: dict) -> str:
    ok = lambda b: "met" if b else "NOT met"  # noqa: E731
    lines = [
        "## jobs — job folders (issue 3)", "",
        f"- machine: {platform.node()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()})",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- command: `python bench/bench_jobs.py{' --quick' if args.quick else ''}`", "",
        "| benchmark | result | baseline (same run) | target |", "|---|---|---|---|",
        f"| 1. {cyc['n']:,} job→claim→result cycles | all accounted: {cyc['ok']} "
        f"({cyc['counts']}), false stale claims: {cyc['false_stale']}, missed events repaired: "
        f"{cyc['missed']}; {cyc['events']:,} events, {cyc['events_per_s']:,.0f} events/s, "
        f"daemon CPU {cyc['daemon_cpu_s']:.2f} s; writer {cyc['writer_watched_s']:.2f} s | "
        f"writer alone {cyc['writer_alone_s']:.2f} s | every job, 0 false stale: "
        f"{ok(cyc['ok'] and cyc['false_stale'] == 0)} |",
        f"| 2. one-shot check of {chk['files']:,} files | {chk['check_s']:.3f} s "
        f"({chk['x_reading']:.2f}× read floor, {chk['x_listing']:.1f}× listing floor) | "
        f"scandir listing {chk['floor_listing_s']:.3f} s; scandir+stat+read "
        f"{chk['floor_reading_s']:.3f} s | ≤ 3× floor: {ok(chk['x_reading'] <= 3)} "
        f"(read floor), {ok(chk['x_listing'] <= 3)} (listing floor) |",
        f"| 3. stale-claim detection, {stl['n']} claims | median {stl['median_ms']:.1f} ms, "
        f"max {stl['max_ms']:.1f} ms, min {stl['min_ms']:.1f} ms ({stl['detected']} detected) "
        f"| threshold instant | median ≤ 250 ms, max ≤ 1 s: "
        f"{ok(stl['median_ms'] <= 250 and stl['max_ms'] <= 1000)} |",
        f"| 4. RSS with a {rss['indexed']:,}-file index | {rss['after_mb']:.1f} MB | "
        f"{rss['before_mb']:.1f} MB before indexing | ≤ 80 MB: {ok(rss['after_mb'] <= 80)} |",
        "", f"One-shot findings on the generated tree: {sorted(set(chk['findings'])) or 'none'}.",
        "The read floor is the least any checker that must read result files (SPEC §2: the id "
        "comes from the result's `job_id`) can do; the listing floor reads no file at all.", "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rss-child")
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    big = 10_000 if args.quick else 100_000
    cyc = asyncio.run(bench_cycles(1_000 if args.quick else 10_000))
    print("cycles", cyc, flush=True)
    chk = bench_check(big, big // 20, big // 50)
    print("check", chk, flush=True)
    stl = asyncio.run(bench_stale(100))
    print("stale", stl, flush=True)
    rss = bench_rss(build_check_tree(big, big // 20, big // 50))
    print("rss", rss, flush=True)
    text = report(args, cyc, chk, stl, rss)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "jobs.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
