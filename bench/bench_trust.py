"""Trust benchmark (issue 13): does a compressed clock or a busy host make a clean system look
broken, and is every real fault still found?

Runs `burnin demo` headless (the reference system and the real daemon, as child processes):

- clean windows (`--faults none`, different seeds) at 864x (24 h = 100 real s) and 8640x
  (72 h = 30 real s): quiet, and with a CPU hog — two niced busy loops (`nice -n 19`) for
  `--burst` real seconds in the middle of the window ("burst"), or for the whole window ("all");
- the scripted faulted demo (72 h) at 864x and 8640x.

Per setting it writes the verdicts, the HIGH/CRITICAL alerts fired (on a clean system every
one is false; environmental `host.*`/`daemon.*` ones are counted apart, they describe the
machine), the saturated-host share the report states, the limits floored, and per scripted
fault its detection delay and tier. The baseline is the background load of this shared
machine, measured by the benchmark during every run (mean host CPU %), and the quiet runs.
Writes bench/results/trust.md and reassembles bench/RESULTS.md.

    python bench/bench_trust.py                 # full: 2 quiet + 10 burst + 2 all per scale
    python bench/bench_trust.py --quick         # 1 of each, for a smoke run
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import assemble
from daemon.sim.demo import DemoDir, run_demo
from daemon.sim.files import json_objects
from daemon.sim.outcome import outcomes

RESULTS = Path(__file__).resolve().parent / "results" / "trust.md"
HOG = "import os\nos.nice(19)\nwhile True:\n    pass\n"
WINDOWS = {864.0: "24h", 8640.0: "72h"}
ENV = ("host.", "daemon.")


@dataclass
class Run:
    setting: str
    scale: float
    seed: int
    code: int = -1
    verdict: str = "?"
    sut_high: list[str] = field(default_factory=list)  # HIGH/CRITICAL of the system under test
    env_high: list[str] = field(default_factory=list)  # HIGH/CRITICAL host.* / daemon.*
    share: float | None = None
    sustained: float | None = None
    md_states_share: bool = False
    clamped: list[str] = field(default_factory=list)
    jobs_limits: int = 0  # jobs.pending_too_long / jobs.stale_claim fired (clean: false)
    background_cpu: float | None = None
    reasons: list[str] = field(default_factory=list)  # the verdict's reason codes
    real_s: float = 0.0
    faults: list[dict] = field(default_factory=list)


class Hog:
    """Two niced busy loops from `start_s` for `hold_s` real seconds (None: until stopped)."""

    def __init__(self, start_s: float, hold_s: float | None) -> None:
        self.start_s, self.hold_s = start_s, hold_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Hog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._kill()

    def _run(self) -> None:
        if self._stop.wait(self.start_s):
            return
        self.procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(2)]
        self._stop.wait(self.hold_s)  # None: until __exit__
        self._kill()

    def _kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        self.procs = []


class CpuMeter:
    """The host's mean CPU % while a run lasts (the background load of this shared machine)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuMeter:
        psutil.cpu_percent()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append(psutil.cpu_percent())

    @property
    def mean(self) -> float | None:
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else None


def hog_for(setting: str, window_real_s: float, burst_s: float) -> Hog | None:
    if setting == "burst":
        return Hog(max(0.0, window_real_s / 2 - burst_s / 2), burst_s)
    if setting == "all":
        return Hog(0.0, None)
    return None


def one(setting: str, scale: float, seed: int, faults: str, window: str, burst_s: float,
        base: Path) -> Run:
    """Run one demo and read what it left: alert log, final report, fault log."""
    run = Run(setting, scale, seed)
    folder = base / f"{setting}-{int(scale)}-{seed}"
    window_real_s = {"24h": 86400.0, "72h": 259200.0}[window] / scale
    hog = hog_for(setting, window_real_s + 2.0, burst_s)  # +2 s: the sim starts first
    began = time.monotonic()
    with CpuMeter() as meter:
        if hog is not None:
            with hog:
                run.code = _demo(window, scale, faults, folder, seed)
        else:
            run.code = _demo(window, scale, faults, folder, seed)
    run.real_s = round(time.monotonic() - began, 1)
    run.background_cpu = meter.mean
    read_back(run, DemoDir(folder))
    return run


def _demo(window: str, scale: float, faults: str, folder: Path, seed: int) -> int:
    return run_demo(window, scale, faults, folder, seed,
                    console=Console(file=io.StringIO(), width=120), poll_s=1.0)


def read_back(run: Run, demo: DemoDir) -> None:
    alerts = list(json_objects(demo.alerts))
    run.verdict = {0: "GREEN", 1: "YELLOW", 2: "RED"}.get(run.code, f"exit {run.code}")
    for a in alerts:
        if a.get("status") != "firing" or a.get("severity") not in ("HIGH", "CRITICAL") \
                or a.get("code") == "window.verdict":  # the verdict notification itself
            continue
        name = f"{a.get('code')} {a.get('severity')}"
        (run.env_high if str(a.get("code")).startswith(ENV) else run.sut_high).append(name)
    run.jobs_limits = sum(1 for a in alerts if a.get("status") == "firing" and a.get("code")
                          in ("jobs.pending_too_long", "jobs.stale_claim"))
    reports = list((demo.runtime / "reports").glob("*/final.json"))
    if reports:
        doc = json.loads(reports[0].read_text())
        env = doc["verdict"].get("environment", {})
        run.share = env.get("saturated_share")
        run.sustained = env.get("sustained_share")
        run.reasons = sorted({r["code"] for r in doc["verdict"]["reasons"]})
        run.clamped = [c["key"] for c in doc["window"].get("clamped", [])]
        md = reports[0].with_name("final.md").read_text()
        run.md_states_share = "## Environment" in md and "saturated" in md
    faults = list(json_objects(demo.tree.fault_log))
    if faults:
        for o in outcomes(faults, alerts, run.scale):
            run.faults.append({"fault": o.fault, "code": o.code, "tier": o.severity,
                               "delay_s": None if o.delay_s is None else round(o.delay_s, 2),
                               "deadline_s": round(o.deadline_s, 2), "in_time": o.in_time,
                               "tier_seen": _tier_seen(alerts, o.code, o.injected_at)})


def _tier_seen(alerts: list[dict], code: str, after: float) -> str:
    from daemon.clock import parse_timestamp

    tiers = [str(a.get("severity")) for a in alerts if a.get("code") == code
             and a.get("status") == "firing"
             and (parse_timestamp(a.get("first_seen")) or 0) >= after - 0.5]
    order = ("CRITICAL", "HIGH", "MEDIUM", "INFO")
    return next((t for t in order if t in tiers), "-")


def plan(quick: bool, quiet: int, burst: int, whole: int,
         scales: list[float]) -> list[tuple[str, float, str]]:
    n = (1, 1, 1) if quick else (quiet, burst, whole)
    out = []
    for scale in scales:
        out += [("quiet", scale, "none")] * n[0] + [("burst", scale, "none")] * n[1]
        out += [("all", scale, "none")] * n[2] + [("faulted", scale, "scripted")]
    return out


def summarize(runs: list[Run]) -> list[str]:
    lines = ["| setting | scale | runs | verdicts | false HIGH/CRITICAL (system under test) | "
             "env HIGH/CRITICAL (host.*/daemon.*) | jobs limit alerts | saturated share, every "
             "look (mean, max) | sustained share (mean, max) | non-GREEN only for a saturated "
             "host | final.md states it | background CPU % (mean) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r.setting, r.scale) for r in runs}, key=lambda k: (k[1], k[0]))
    for setting, scale in keys:
        rs = [r for r in runs if (r.setting, r.scale) == (setting, scale)]
        verdicts = ", ".join(f"{v} {sum(r.verdict == v for r in rs)}"
                             for v in ("GREEN", "YELLOW", "RED")
                             if any(r.verdict == v for r in rs))
        share = _mean_max([r.share for r in rs])
        sustained = _mean_max([r.sustained for r in rs])
        host_only = sum(r.verdict != "GREEN" and r.reasons == ["window.host_saturated"]
                        for r in rs)
        bg = [r.background_cpu for r in rs if r.background_cpu is not None]
        sut = "-" if setting == "faulted" else str(sum(len(r.sut_high) for r in rs))
        lines.append(
            f"| {setting} | {scale:g}x | {len(rs)} | {verdicts} | {sut} | "
            f"{sum(len(r.env_high) for r in rs)} | "
            f"{'-' if setting == 'faulted' else sum(r.jobs_limits for r in rs)} | {share} | "
            f"{sustained} | {host_only} | "
            f"{sum(r.md_states_share for r in rs)}/{len(rs)} | "
            f"{sum(bg) / len(bg) if bg else float('nan'):.0f} |")
    return lines


def _mean_max(values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    return f"{sum(got) / len(got):.1%}, {max(got):.1%}" if got else "n/a"


def fault_table(runs: list[Run]) -> list[str]:
    lines = ["| scale | fault | expected | tier seen | detected after (real s) | deadline (real s) "
             "| in time |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        for f in r.faults:
            lines.append(f"| {r.scale:g}x | {f['fault']} | {f['code']} {f['tier']} | "
                         f"{f['tier_seen']} | {f['delay_s']} | {f['deadline_s']} | "
                         f"{'yes' if f['in_time'] else 'NO'} |")
    return lines


def details(runs: list[Run]) -> list[str]:
    lines = ["| setting | scale | seed | verdict | reasons | real s | HIGH/CRITICAL fired | "
             "saturated (every look / sustained) | background CPU % |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        fired = ", ".join(sorted(set(r.sut_high + r.env_high))) or "none"
        share = "n/a" if r.share is None else f"{r.share:.1%} / {r.sustained or 0:.1%}"
        reasons = ", ".join(r.reasons) if len(r.reasons) <= 3 else f"{len(r.reasons)} codes"
        lines.append(f"| {r.setting} | {r.scale:g}x | {r.seed} | {r.verdict} | {reasons or '-'} "
                     f"| {r.real_s} | {fired} | {share} | {r.background_cpu} |")
    return lines


def write(runs: list[Run], args: argparse.Namespace, started: str) -> None:
    clamped = sorted({(r.scale, k) for r in runs for k in r.clamped})
    lines = [
        "## trust — verdicts under compression and a busy host (issue 13)", "",
        f"- machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; **shared**: six other helpers were running tests and "
        "benchmarks on it at the same time (the background CPU column is the host's mean "
        "CPU % measured by this benchmark during each run — a realistic busy host)",
        f"- date: {started}",
        f"- command: `python bench/bench_trust.py{' --quick' if args.quick else ''}` "
        f"(burst = two `nice -n 19` busy loops for {args.burst:g} real s mid-window; all = "
        "the same loops for the whole window; windows: 24 h at 864x = 100 s, 72 h at 8640x "
        "= 30 s; faulted: the scripted plan, 72 h)",
        "- baseline: the quiet runs of the same scale, and the background CPU measured in the "
        "same run", "",
        *summarize(runs), "",
        "Floored limits stated in status.json / the report: "
        + (", ".join(f"{s:g}x {k}" for s, k in clamped) or "none"), "",
        "How to read it: on a clean system every HIGH/CRITICAL of the system under test is "
        "false (target 0). `host.*`/`daemon.*` alerts describe the machine and never decide "
        "the verdict; the verdict is YELLOW for the host only when the saturated share in "
        "spells of `sample_for_min` (30 s real) reaches `environment_yellow_share` (10 %) — "
        "on this shared 2-core machine other helpers often held the CPU above 95 % for "
        "minutes, which is a saturated host, not a false alarm. The 'every look' share counts "
        "each 250 ms health sample above 95 % (shown, not judged: compressed samples are "
        "noisy). At 8640x the whole window is 30 real seconds, so no 30 s spell can be proven "
        "in it: busy loops all window show in the every-look share only.", "",
        "### Scripted faults: detection time and tier", "",
        *fault_table(runs), "",
        "### Every run", "", *details(runs), "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--quiet", type=int, default=2)
    parser.add_argument("--burst-runs", type=int, default=10)
    parser.add_argument("--all-runs", type=int, default=2)
    parser.add_argument("--burst", type=float, default=8.0, help="real seconds of busy loops")
    parser.add_argument("--only", default="", help="comma list of settings to run")
    parser.add_argument("--scales", default="864,8640", help="comma list of time scales")
    args = parser.parse_args()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    base = Path(tempfile.mkdtemp(prefix="bench-trust-"))
    runs = []
    todo = plan(args.quick, args.quiet, args.burst_runs, args.all_runs,
                [float(x) for x in args.scales.split(",")])
    if args.only:
        todo = [t for t in todo if t[0] in args.only.split(",")]
    for i, (setting, scale, faults) in enumerate(todo):
        window = "72h" if setting == "faulted" else WINDOWS[scale]
        run = one(setting, scale, 1000 + i, faults, window, args.burst, base)
        runs.append(run)
        print(f"{setting:8} {scale:>6g}x seed {run.seed}: {run.verdict:6} {run.reasons} "
              f"sut={len(run.sut_high)} env={run.env_high} share={run.share} "
              f"sustained={run.sustained} bg={run.background_cpu}", flush=True)
        write(runs, args, started)
        (base / "runs.json").write_text(json.dumps([vars(r) for r in runs], indent=1))
    assemble()
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
