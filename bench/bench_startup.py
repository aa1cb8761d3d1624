"""Start-up of a one-shot `burnin check` (issue 15 item 1), as a whole process.

What Nagios/Icinga run every minute, `python -m daemon check --root <small clean tree>`,
against a bare `python -c pass` of the same interpreter, interleaved (each run rotates which
goes first), median of `--runs`. Wall by the clock, CPU (user+system, with reaped children)
by wait4, peak RSS by GNU time. Before measuring, the package is byte-compiled (as a wheel
install does): with PYTHONDONTWRITEBYTECODE set, a source checkout would otherwise compile
every module on every start.

    python bench/bench_startup.py [--runs 7] [--before REF]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tree import seed_tree  # noqa: E402
from whole import checkout, remove, timed  # noqa: E402

TARGET_RATIO, TARGET_MIB = 4.0, 40.0
CONFIG = """[system]
name = "bench"
[window]
duration = "72h"
[jobs]
stale_claim_after = "5m"
pending_after = "15m"
[thresholds]
host_high_percent = 85
latency_p95_high_ms = 400
[daemon]
runtime_dir = "{runtime}"
log_dir = "{logs}"
log_level = "warning"
[[alerts.webhook]]
url = "http://127.0.0.1:9/hook"
format = "alertmanager"
[checks]
disabled = ["daemon_log"]
"""
PROCESS = """[[process]]
name = "bench"
pidfile = "runtime/bench.pid"
"""


def interleaved(cases: dict[str, list[str]], sides: dict[str, Path],
                runs: int) -> dict[str, dict[str, dict[str, float]]]:
    """Median figures per case and side; every run rotates the order of all commands."""
    cmds = [(case, side) for case in cases for side in sides]
    samples: dict[tuple[str, str], list[dict[str, float]]] = {c: [] for c in cmds}
    for i in range(runs):
        for case, side in cmds[i % len(cmds):] + cmds[:i % len(cmds)]:
            samples[(case, side)].append(timed(cases[case], sides[side]))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (case, side), got in samples.items():
        out.setdefault(case, {})[side] = {k: statistics.median(r[k] for r in got)
                                          for k in got[0]}
    return out


def compile_tree(code: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "daemon")],
                   check=True, capture_output=True)


def measure(runs: int, before: str | None) -> dict[str, Any]:
    py = sys.executable
    base = Path(tempfile.mkdtemp(prefix="bench-startup-tree-"))
    root = seed_tree(base)
    check = [py, "-m", "daemon", "check", "--format", "json", "--root", str(root)]
    config = base / "burnin.toml"
    config.write_text(CONFIG.format(runtime=base / "rt", logs=base / "lg"))
    (root / "runtime").mkdir(exist_ok=True)
    (root / "runtime" / "bench.pid").write_text(f"{os.getpid()}\n")  # a live process
    watched = base / "process.toml"
    watched.write_text(CONFIG.format(runtime=base / "rt", logs=base / "lg") + PROCESS)
    cases = {"bare": [py, "-c", "pass"],
             "asyncio": [py, "-c", "import asyncio, msgspec, psutil"],
             "floor": [py, "-c", "import msgspec, psutil"], "full": check,
             "config": [*check, "--config", str(config)],
             "process": [*check, "--config", str(watched)],
             "cold": ["/usr/bin/env", "BURNIN_CPU_CACHE=", *check],
             "no_health": [*check, "--only", "jobs,position,integrity"]}
    # the host CPU reading kept between checks (sources/cpucache.py), as Nagios's every-minute
    # runs keep it; the `cold` row runs without one
    os.environ["BURNIN_CPU_CACHE"] = str(base / "check-cpu.json")
    sides = {"now": HERE.parent}
    old = checkout(before) if before else None
    if old is not None:
        sides["before"] = old
    for code in sides.values():
        compile_tree(code)
    load = {"before": os.getloadavg()}
    try:
        figures = interleaved(cases, sides, runs)
    finally:
        if old is not None:
            remove(old)
        shutil.rmtree(base)
    load["after"] = os.getloadavg()
    return {"figures": figures, "load": load, "runs": runs, "before": before}


def rows(result: dict[str, Any]) -> list[str]:
    fig = result["figures"]
    bare = fig["bare"]["now"]
    before = result["before"]
    head = ("| what (whole process) | wall s | CPU s | peak RSS MiB | wall / bare | CPU / bare "
            "| target (<= 4x wall, <= 40 MiB) |" + (f" at `{before}`: wall s, CPU s, MiB |"
                                                      if before else ""))
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    names = {"bare": "`python -c pass` (baseline)",
             "asyncio": "`python -c 'import asyncio, msgspec, psutil'` (the rules under asyncio)",
             "floor": "`python -c 'import msgspec, psutil'` (what a loopless check stands on)",
             "full": "`burnin check --root <seed tree>` (all four checks; the previous run's "
                     "CPU reading kept, as under Nagios)",
             "cold": "the same without a kept CPU reading (a first run: >= 0.1 s CPU sample)",
             "config": "the same with `--config` (a small TOML file: seven tables, a webhook)",
             "process": "the same config with a `[[process]]` (a pidfile naming a live process)",
             "no_health": "`burnin check --only jobs,position,integrity`"}
    for case, label in names.items():
        now = fig[case]["now"]
        ratio = now["wall"] / bare["wall"]
        met = ("—" if case in ("bare", "asyncio", "floor") else
               "met" if ratio <= TARGET_RATIO and now["rss"] <= TARGET_MIB else "NOT met")
        line = (f"| {label} | {now['wall']:.3f} | {now['cpu']:.3f} | {now['rss']:.1f} | "
                f"{ratio:.2f}x | {now['cpu'] / bare['cpu']:.2f}x | {met} |")
        if before:
            old = fig[case]["before"]
            line += f" {old['wall']:.3f}, {old['cpu']:.3f}, {old['rss']:.1f} |"
        out.append(line)
    return out


def write(result: dict[str, Any]) -> Path:
    load = result["load"]
    text = "\n".join([
        "## startup — a one-shot `burnin check` as a whole process (issue 15 item 1)", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `python bench/bench_startup.py "
        f"--runs {result['runs']}" + (f" --before {result['before']}`" if result["before"]
                                      else "`") + ".", "",
        "Each command is a fresh process, run interleaved with the others (every run rotates",
        "the order), median of the runs; wall by the clock, CPU (user+system) by wait4, peak",
        "RSS by GNU time. The package is byte-compiled first, as a wheel install is. The seed",
        "tree is bench/tree.py's (empty journal, a RUNNING state).", "",
        *rows(result), "",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load['before'])}"
        f"; after: {', '.join(f'{x:.1f}' for x in load['after'])} on this 2-core "
        "machine (above ~1, other work competed for it), so walls vary; CPU is steadier.", "",
        "Reading the rows. `burnin check` runs without an event loop: the rules are the",
        "daemon's coroutines, but in a one-shot check nothing needs to suspend (blocking reads",
        "run directly through `Env.offload` instead of in anyio worker threads, a wait blocks),",
        "so `daemon/oneshot.py` drives the whole check with one `send(None)`; asyncio, anyio and",
        "ssl are not imported (second row: what importing them cost). The third row is what the",
        "loopless rules still stand on: the journal is decoded by msgspec, the host and process",
        "rules read psutil (imported when they run: `--only jobs,position,integrity` does not",
        "import it). What `burnin check` no longer pays at start-up: asyncio/anyio/ssl,",
        "pydantic (a valid config is checked on the config models' fast path,",
        "`daemon/configmodel.py`; pydantic is imported only to word a refusal), the other ten",
        "commands' argument parsers (and `daemon.fleet`), structlog, rich, numpy below 2 MiB of",
        "journal, watchfiles, httpx, aiosmtplib, prometheus_client, APScheduler; nor, at the",
        "end, the interpreter's teardown (it leaves by `os._exit` once its output is flushed,",
        "`daemon.cli.entry`). Host CPU: a check measures it from the previous check's",
        "reading of the host's CPU counters, kept in the user's cache folder",
        "(`daemon/sources/cpucache.py`, at most 5 min old: under Nagios the sample spans the",
        "minute between runs) to the host rule, burnin's own CPU left out",
        "(`metrics.host.cpu_sample_s`), and waits for nothing. Without a kept reading (the",
        "`cold` row: a first run, or an hour since the last) it samples from its own start to",
        "the host rule (health runs last), at least 0.1 s: the extra wall of that row (0.1 s",
        "alone is ~5x a bare start). A `[[process]]`'s CPU is sampled over the run likewise",
        "(its first look as the checks start, after the config is read; at least 0.1 s,",
        "`metrics.processes.<name>.cpu_sample_s`).", "",
        "These rows supersede the three start-up rows of the journal section's whole-process",
        "table (the replay row there stays the replay benchmark's).", ""])
    out = HERE / "results" / "startup.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="3 runs")
    ap.add_argument("--before", metavar="REF", help="also measure burnin at this commit")
    args = ap.parse_args()
    result = measure(3 if args.quick else args.runs, args.before)
    print("\n".join(rows(result)))
    print(f"wrote {write(result)}")


if __name__ == "__main__":
    main()
