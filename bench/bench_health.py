"""burnin's own cost while watching a busy tree, against a naive folder-listing loop.

Starts, side by side on one generated tree:
- a **writer** (this file, `--role writer`): 20 jobs/s through the seed layout (job file ->
  claim by rename -> result -> claim removed), one log line and one transition per job, a
  heartbeat; the tree holds N result files (10,000; `--quick`: 2,000), oldest removed as new
  ones arrive;
- **burnin**: the whole daemon (`burnin run`, every check at its real cadence, the job-folder
  watcher, the alert engine), or another command by `--daemon-cmd` (placeholders `{python}
  {root} {config}`; `--daemon-cmd health-only` runs only the health rules in this file);
- the **baseline** (`--role baseline`): a Python loop that lists the job folders every second.

Every second it samples CPU time and RSS of burnin and the baseline (psutil), then writes
average CPU % of one core, peak and end RSS and the RSS slope (least squares after a warm-up)
to bench/results/health.md. Targets: CPU <= 1 %, RSS <= 80 MB, slope < 0.1 MB/min.

    python bench/bench_health.py            # 10 minutes, 10,000 files
    python bench/bench_health.py --quick    # 75 seconds, 2,000 files
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data" / "health"
RESULTS = HERE / "results" / "health.md"
TARGET_CPU, TARGET_RSS_MB, TARGET_SLOPE = 1.0, 80.0, 0.1
NOTE_HEALTH_ONLY = (
    "Note: this measured the health rules alone (`--daemon-cmd health-only`); without that "
    "option the whole daemon is measured (jobs watcher, position, integrity, alerts).")
FOLDERS = ("data/webrelay_out", "data/webrelay_in", "data/failed_reports")

CONFIG = """
[system]
name = "bench"

[[process]]
name = "writer"
pidfile = "runtime/writer.pid"

[heartbeat]
path = "runtime/heartbeat"
max_age = "2m"

[daemon]
runtime_dir = "{runtime}"
log_dir = "{logs}"
"""


# ---- the tree and its writer -------------------------------------------------------------

def make_tree(root: Path, files: int) -> None:
    """A fresh seed-layout tree holding `files` result files."""
    if root.exists():
        shutil.rmtree(root)
    for sub in (*FOLDERS, "storage/events", "runtime", "logs"):
        (root / sub).mkdir(parents=True)
    (root / "storage/events/credits.jsonl").write_text("")
    (root / "runtime/system_state.json").write_text('{"state": "RUNNING"}\n')
    (root / "logs/state_transitions.jsonl").write_text("")
    for i in range(files):
        (root / f"data/webrelay_in/old-{i:06d}.result.json").write_text(
            f'{{"job_id": "old-{i:06d}", "status": "ok"}}\n')


def run_writer(root: Path, rate: float) -> None:
    """Process jobs at `rate` per second until killed, keeping the result count constant."""
    (root / "runtime/writer.pid").write_text(f"{os.getpid()}\n")
    out, res = root / "data/webrelay_out", root / "data/webrelay_in"
    oldest = sorted(p.name for p in res.iterdir())
    log = open(root / "logs/app.log", "a", buffering=1)  # noqa: SIM115
    trans = open(root / "logs/state_transitions.jsonl", "a", buffering=1)  # noqa: SIM115
    start, n = time.monotonic(), 0
    while True:
        job = f"job-{n:08d}"
        _one_job(out, res, job, log, trans, n)
        oldest.append(f"{job}.result.json")
        (res / oldest.pop(0)).unlink(missing_ok=True)
        if n % int(rate) == 0:
            (root / "runtime/heartbeat").touch()
        n += 1
        time.sleep(max(0.0, start + n / rate - time.monotonic()))


def _one_job(out: Path, res: Path, job: str, log, trans, n: int) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC).isoformat()
    tmp = out / f".{job}.tmp"
    tmp.write_text(json.dumps({"job_id": job, "created_at": now}))
    tmp.rename(out / f"{job}.job.json")
    (out / f"{job}.job.json").rename(out / f"{job}.job.json.claimed")
    (res / f"{job}.result.json").write_text(json.dumps({"job_id": job, "completed_at": now}))
    (out / f"{job}.job.json.claimed").unlink()
    log.write(f"{now} INFO processed {job}\n")
    trans.write(json.dumps({"transition_id": f"t{n}", "from_state": "RUNNING",
                            "to_state": "RUNNING", "timestamp": now}) + "\n")


def run_baseline(root: Path) -> None:
    """The naive watcher: list every job folder once a second."""
    while True:
        for sub in FOLDERS:
            os.listdir(root / sub)
        time.sleep(1.0)


# ---- the health-only daemon (until the full daemon is merged) ----------------------------

async def run_health(config: Path, root: Path) -> None:
    """Every health rule at its cadence, with the loop-lag probe, like the supervisor will."""
    import structlog

    from daemon.checks.base import Env, Tick
    from daemon.checks.registry import rules_for
    from daemon.clock import SystemClock, real
    from daemon.config import load_config
    from daemon.sources.registry import SourceHub

    cfg = load_config(config, root=str(root))
    clock = SystemClock(cfg.window.time_scale)
    hub = SourceHub()
    env = Env(cfg=cfg, clock=clock, sources=hub, log=structlog.get_logger())
    hub.bind(env)
    rules = [cls(env) for cls in rules_for("health")]
    probe = asyncio.create_task(hub.get("selfmon").run_lag_probe())  # noqa: F841, RUF006
    status = cfg.runtime_dir / "health-status.json"
    status.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tick = Tick("health", clock.time())
        findings = [f.to_dict() for r in rules for f in await r.run(tick)]
        status.write_text(json.dumps({"at": tick.now, "findings": findings,
                                      "metrics": tick.metrics}, default=str))
        await clock.sleep(max(real(clock, cfg.schedule.health), cfg.schedule.min_interval))


# ---- measuring ---------------------------------------------------------------------------

def slope_mb_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx * 60.0


class Meter:
    """CPU and RSS of one process, sampled once a second."""

    def __init__(self, label: str, pid: int) -> None:
        self.label = label
        self.proc = psutil.Process(pid)
        self.rss: list[tuple[float, float]] = []
        self.cpu0: float | None = None
        self.t0 = time.monotonic()
        self.tw = 0.0
        self.cpu_s = 0.0
        self.span = 0.0

    def sample(self, warmup_s: float) -> None:
        now = time.monotonic() - self.t0
        try:
            with self.proc.oneshot():
                times, rss = self.proc.cpu_times(), self.proc.memory_info().rss
        except psutil.Error:
            return
        cpu = times.user + times.system + times.children_user + times.children_system
        if now >= warmup_s and self.cpu0 is None:
            self.cpu0, self.tw = cpu, now
        if self.cpu0 is not None:
            self.cpu_s, self.span = cpu - self.cpu0, now - self.tw
            self.rss.append((now, rss / 2**20))

    def figures(self) -> dict[str, float | None]:
        rss = [r for _, r in self.rss]
        return {"cpu_percent": self.cpu_s / self.span * 100 if self.span else None,
                "peak_rss_mb": max(rss, default=None), "end_rss_mb": rss[-1] if rss else None,
                "slope_mb_min": slope_mb_min(self.rss)}


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    fh = open(log, "wb")  # noqa: SIM115
    return subprocess.Popen(args, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT,
                            start_new_session=True)


FULL_DAEMON = "{python} -m daemon run --config {config} --root {root} --new-window"


def daemon_args(opts: argparse.Namespace, root: Path, config: Path) -> tuple[list[str], str]:
    if opts.daemon_cmd == "health-only":
        args = [sys.executable, str(Path(__file__).resolve()), "--role", "health",
                "--root", str(root), "--config", str(config)]
        return args, "health-only loop of bench_health.py"
    cmd = (opts.daemon_cmd or FULL_DAEMON).format(python=sys.executable, root=root,
                                                   config=config)
    return shlex.split(cmd), cmd


def measure(opts: argparse.Namespace) -> dict[str, object]:
    root, work = DATA / "tree", DATA / "work"
    make_tree(root, opts.files)
    work.mkdir(parents=True, exist_ok=True)
    config = work / "bench.toml"
    config.write_text(CONFIG.format(runtime=work / "runtime", logs=work / "logs"))
    me = [sys.executable, str(Path(__file__).resolve()), "--root", str(root)]
    args, label = daemon_args(opts, root, config)
    procs = {"writer": spawn([*me, "--role", "writer", "--rate", str(opts.rate)],
                             work / "writer.out")}
    procs["burnin"] = spawn(args, work / "burnin.out")
    procs["baseline"] = spawn([*me, "--role", "baseline"], work / "baseline.out")
    meters = [Meter("burnin", procs["burnin"].pid), Meter("baseline", procs["baseline"].pid)]
    try:
        _sample_until(meters, opts.duration, opts.warmup, procs)
    finally:
        for p in procs.values():
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
    seen = None
    for name in ("health-status.json", "status.json"):  # health-only loop / full daemon
        status = work / "runtime" / name
        if seen is None and status.exists():
            seen = json.loads(status.read_text())
    return {"command": label, "figures": {m.label: m.figures() for m in meters},
            "burnin_saw": seen}


def _sample_until(meters: list[Meter], duration: float, warmup: float,
                  procs: dict[str, subprocess.Popen[bytes]]) -> None:
    end = time.monotonic() + duration
    while time.monotonic() < end:
        for name, p in procs.items():
            if p.poll() is not None:
                raise SystemExit(f"{name} exited early with {p.returncode}")
        for m in meters:
            m.sample(warmup)
        time.sleep(1.0)


# ---- report ------------------------------------------------------------------------------

def fmt(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def report(opts: argparse.Namespace, result: dict) -> str:
    b, base = result["figures"]["burnin"], result["figures"]["baseline"]
    met = {"cpu": b["cpu_percent"] is not None and b["cpu_percent"] <= TARGET_CPU,
           "rss": b["peak_rss_mb"] is not None and b["peak_rss_mb"] <= TARGET_RSS_MB,
           "slope": b["slope_mb_min"] is not None and b["slope_mb_min"] < TARGET_SLOPE}
    rows = [f"| {name} | {fmt(f['cpu_percent'], 3)} | {fmt(f['peak_rss_mb'], 1)} | "
            f"{fmt(f['end_rss_mb'], 1)} | {fmt(f['slope_mb_min'], 3)} |"
            for name, f in (("burnin", b), ("baseline: list folders every 1 s", base))]
    saw = result.get("burnin_saw") or {}
    found = saw.get("findings") or saw.get("alerts", {}).get("open", [])
    codes = sorted({f["code"] for f in found})
    lag = saw.get("metrics", {}).get("daemon") or saw.get("daemon") or {}
    lines = [
        "## health — burnin's own cost", "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.node()}, {platform.processor() or platform.machine()}, "
        f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        f"- command: `{' '.join(['python bench/bench_health.py', *sys.argv[1:]])}`",
        f"- burnin under test: {result['command']}",
        f"- load: {opts.rate:g} jobs/s, {opts.files:,} result files; run {opts.duration:g} s, "
        f"figures after a {opts.warmup:g} s warm-up; health cadence 1 min (real)", "",
        "| process | avg CPU % of one core | peak RSS MB | end RSS MB | RSS slope MB/min |",
        "|---|---|---|---|---|", *rows, "",
        f"Targets: CPU <= {TARGET_CPU:g} % {'met' if met['cpu'] else 'NOT met'}; "
        f"RSS <= {TARGET_RSS_MB:g} MB {'met' if met['rss'] else 'NOT met'}; "
        f"slope < {TARGET_SLOPE:g} MB/min {'met' if met['slope'] else 'NOT met'}.", "",
        f"Findings burnin raised at its last tick: {', '.join(codes) or 'none'}; "
        f"its event-loop lag max {fmt(lag.get('loop_lag_max_ms'), 1)} ms "
        f"(limit 100 ms).", "",
    ]
    if opts.duration < 300:
        lines += ["Note: a run this short holds one or two health ticks; its RSS slope is "
                  "dominated by start-up steps. Judge the slope on the 10-minute run.", ""]
    if opts.daemon_cmd == "health-only":
        lines += [NOTE_HEALTH_ONLY, ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="75 s, 2,000 files")
    ap.add_argument("--daemon-cmd", default="", help="command line; {python} {root} {config}")
    ap.add_argument("--duration", type=float, default=None)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--files", type=int, default=None)
    ap.add_argument("--role", choices=["bench", "writer", "baseline", "health"], default="bench")
    ap.add_argument("--root", type=Path, default=DATA / "tree")
    ap.add_argument("--config", type=Path, default=None)
    opts = ap.parse_args()
    if opts.role == "writer":
        return run_writer(opts.root, opts.rate)
    if opts.role == "baseline":
        return run_baseline(opts.root)
    if opts.role == "health":
        return asyncio.run(run_health(opts.config, opts.root))
    opts.duration = opts.duration or (75.0 if opts.quick else 600.0)
    opts.files = opts.files or (2_000 if opts.quick else 10_000)
    opts.warmup = min(10.0, opts.duration / 6) if opts.quick else 60.0
    text = report(opts, measure(opts))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
