"""Model-based lifecycle histories at scale (issue 12 item 5): many random histories of the
real supervisor parts (AlertEngine, rules, SQLite, alert log, a webhook on 127.0.0.1)
through reloads, restarts, kill -9 (also mid-delivery), channel outages, acks and silences,
each checked against the pure SPEC §4 model in tests/life/model.py.

    python bench/bench_lifecycle.py                  # 2,000 histories of 30 steps
    python bench/bench_lifecycle.py --histories 200  # fewer

Baseline in the same run: the same driver against a mutant engine that forgets a channel's
failure on restart (the bug of seeds 6/10/17 in tests/life/test_model.py): it shows what a
violation looks like and that the checker finds it. Writes bench/results/lifecycle.md and
rebuilds bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "lifecycle.md"
TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None  # SQLite fsyncs cost nothing there


def _mutant() -> None:
    """The engine before the fix: a restarted worker does not know its channel failed."""
    from daemon.alerts import engine

    def start_worker(self, ch):
        health = self.health.pop(ch.name, None)
        original(self, ch)
        if health is not None:
            self.health[ch.name] = health

    original = engine.AlertEngine._start_worker
    engine.AlertEngine._start_worker = start_worker


def run_range(job: tuple[int, int, int, bool]) -> list[tuple[int, list[str], list[str]]]:
    import anyio

    from tests.life.driver import run_history

    first, count, steps, mutant = job
    if mutant:
        _mutant()
    out = []
    for seed in range(first, first + count):
        with tempfile.TemporaryDirectory(dir=TMP) as tmp, \
                contextlib.redirect_stdout(io.StringIO()):
            v = anyio.run(run_history, seed, Path(tmp), steps)
        out.append((seed, v.ops, v.violations))
    return out


def batch(first: int, n: int, steps: int, jobs: int, mutant: bool
          ) -> tuple[list[tuple[int, list[str], list[str]]], float]:
    per = -(-n // jobs)
    parts = [(first + i * per, min(per, n - i * per), steps, mutant) for i in range(jobs)
             if n - i * per > 0]
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(len(parts)) as pool:
        results = [r for part in pool.map(run_range, parts) for r in part]
    return results, time.perf_counter() - t0


def report(args: argparse.Namespace, real: list, real_s: float, base: list,
           base_s: float) -> str:
    bad = [r for r in real if r[2]]
    base_bad = [r for r in base if r[2]]
    lines = [
        "## lifecycle",
        "",
        f"- machine: {platform.machine()}, {multiprocessing.cpu_count()} cores (shared: other "
        f"helpers were loading the machine), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- command: `python bench/bench_lifecycle.py --histories {args.histories} "
        f"--steps {args.steps} --jobs {args.jobs}`",
        "- each history: a random sequence of claims appearing/going, duplicate jobs, time "
        "passing, ack, silence, reload (same/changed config), restart, kill -9 (also while the "
        "webhook holds a delivery), webhook down/up, flapping claims; checked against "
        "tests/life/model.py",
        "",
        "| run | histories | steps each | violating histories | seconds |",
        "|---|---|---|---|---|",
        f"| burnin | {len(real)} | {args.steps} | {len(bad)} | {real_s:.0f} |",
        f"| baseline: mutant engine (forgets a failing channel on restart) | {len(base)} | "
        f"{args.steps} | {len(base_bad)} | {base_s:.0f} |",
        "",
    ]
    for seed, ops, violations in bad[:10]:
        lines += [f"- seed {seed}: {'; '.join(violations[:3])} (ops: {' '.join(ops)})"]
    if base_bad:
        seed, _ops, violations = base_bad[0]
        lines += [f"- baseline example, seed {seed}: {violations[0]}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--histories", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.histories, args.baseline = 100, 40
    real, real_s = batch(args.first_seed, args.histories, args.steps, args.jobs, False)
    base, base_s = batch(args.first_seed, args.baseline, args.steps, args.jobs, True)
    text = report(args, real, real_s, base, base_s)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    sys.path.insert(0, str(ROOT / "bench"))
    from run import assemble

    assemble()
    print(text)
    return 1 if any(r[2] for r in real) else 0


if __name__ == "__main__":
    raise SystemExit(main())
