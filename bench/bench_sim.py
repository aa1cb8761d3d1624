"""Benchmark of the reference system (area: sim).

Measures, in one run: (1) a baseline — the bare file operations of one job (write job,
rename-claim, write result, unlink) in a loop; (2) the whole system in-process (ledger, log,
snapshot, state machine) at full speed; (3) the real processes in load mode (`--jobs-per-second`)
— achieved rate, job latency p95 (real ms), worker CPU; (4) the demo rate (time scale 864) —
worker CPU and RSS trend, which must stay below burnin's own idle-CPU and memory thresholds.
Writes bench/results/sim.md. `--quick` for a small size.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.sim.files import replace_json
from daemon.sim.layout import Tree
from daemon.sim.system import Options, System
from daemon.sim.verify import audit

DATA = Path(__file__).resolve().parent / "data" / "sim"
RESULTS = Path(__file__).resolve().parent / "results" / "sim.md"


def baseline(jobs: int) -> float:
    """Jobs per second of the bare file operations of one job."""
    tree = Tree(Path(tempfile.mkdtemp(dir=DATA))).create()
    began = time.perf_counter()
    for n in range(jobs):
        job = tree.outbox / f"b{n}.job.json"
        replace_json(job, {"job_id": f"b{n}", "created_at": "2026-01-13T10:00:00Z"})
        claimed = job.with_name(job.name + ".claimed")
        job.rename(claimed)
        replace_json(tree.inbox / f"b{n}.result.json", {"job_id": f"b{n}"})
        claimed.unlink()
    return jobs / (time.perf_counter() - began)


def in_process(jobs: int) -> float:
    """Jobs per second of the whole system ticked as fast as it goes."""
    root = Path(tempfile.mkdtemp(dir=DATA))
    system = System(Options(root=root, faults="none", start=0.0, jobs_per_second=1e6,
                             snapshot_every_s=0.5))
    system.producer.max_per_tick = 50
    began, now = time.perf_counter(), 0.0
    while system.worker.done < jobs:
        now += 0.001
        system.tick(now)
    return jobs / (time.perf_counter() - began)


def run_process(args: list[str], seconds: float) -> tuple[Tree, float, list[float]]:
    """Run `python -m daemon.sim run` for `seconds`; worker CPU % and RSS samples (MB)."""
    tree = Tree(Path(tempfile.mkdtemp(dir=DATA)) / "tree")
    proc = subprocess.Popen([sys.executable, "-m", "daemon.sim", "run", "--root",
                             str(tree.root), "--faults", "none", *args],
                            cwd=Path(__file__).resolve().parents[1])
    try:
        while not tree.pidfile.exists():
            time.sleep(0.05)
        worker = psutil.Process(int(tree.pidfile.read_text()))
        worker.cpu_percent()
        rss = []
        for _ in range(int(seconds)):
            time.sleep(1.0)
            rss.append(worker.memory_info().rss / 2**20)
        cpu = worker.cpu_percent()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    return tree, cpu, rss


def slope_per_min(samples: list[float]) -> float:
    xs = [i / 60 for i in range(len(samples))]
    mx, my = sum(xs) / len(xs), sum(samples) / len(samples)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, samples, strict=True)) / den if den else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    jobs, seconds, rate = (300, 6, 50.0) if quick else (2000, 20, 50.0)
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    base = baseline(jobs)
    full = in_process(jobs)
    load_tree, load_cpu, _ = run_process(["--jobs-per-second", str(rate)], seconds)
    load = audit(load_tree)
    demo_tree, demo_cpu, demo_rss = run_process(["--time-scale", "864"], seconds * 2)
    demo = audit(demo_tree)
    rows = {
        "baseline: bare job file ops (jobs/s)": f"{base:.0f}",
        "whole system in-process (jobs/s)": f"{full:.0f} ({full / base:.0%} of baseline)",
        f"load mode {rate:g} jobs/s: achieved (jobs/s)": f"{load.results / seconds:.1f}",
        "load mode: job latency p95 (real ms)": f"{load.p95_ms():.0f}",
        "load mode: worker CPU (%)": f"{load_cpu:.1f}",
        "demo rate (scale 864): worker CPU (%)": f"{demo_cpu:.1f}",
        "demo rate: worker RSS trend (MB/min)": f"{slope_per_min(demo_rss):.3f}",
        "demo rate: job latency p95 (real ms)": f"{demo.p95_ms():.0f}",
        "clean-tree problems (load + demo)": str(len(load.problems) + len(demo.problems)),
    }
    targets = {
        "load mode sustains >= 90 % of 50 jobs/s": load.results / seconds >= 0.9 * rate,
        "load mode p95 < 500 ms": load.p95_ms() < 500,
        "demo-rate worker CPU < 2 % (burnin idle_cpu_max)": demo_cpu < 2.0,
        "demo-rate RSS trend < 0.1 MB/min (burnin HIGH)": slope_per_min(demo_rss) < 0.1,
        "clean runs leave a clean tree": not load.problems and not demo.problems,
    }
    write(rows, targets, quick, jobs, seconds)
    shutil.rmtree(DATA, ignore_errors=True)
    return 0 if all(targets.values()) else 1


def write(rows: dict[str, str], targets: dict[str, bool], quick: bool, jobs: int,
          seconds: int) -> None:
    lines = ["## sim — reference system", "",
             f"- machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()} (shared with other jobs)",
             f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
             f"- command: `python bench/bench_sim.py{' --quick' if quick else ''}` "
             f"({jobs} jobs in-process, {seconds} s load run, {seconds * 2} s demo-rate run)",
             "", "| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows.items()]
    lines += ["", "| target | met |", "|---|---|"]
    lines += [f"| {k} | {'yes' if v else 'NO'} |" for k, v in targets.items()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
