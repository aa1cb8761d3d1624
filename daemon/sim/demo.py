"""`burnin demo`: the reference system and the daemon on it, a live view, then the verdict.

Each run gets a folder of its own (default: a new `runtime/demo/<UTC time>/`; `--dir` must be
new or empty), so an earlier demo's report is never deleted. Layout of the demo folder:
`tree/` is the observed reference system, `runtime/` and `logs/` are burnin's own folders,
`burnin.toml` the config written for the run,
`logs/sim.out` / `logs/daemon.out` the children's console output. Both children run in their
own process groups; whatever happens (daemon exit, Ctrl-C, an error) both groups are stopped:
SIGTERM, then SIGKILL after 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from daemon.clock import Clock, SystemClock
from daemon.durations import parse_duration
from daemon.sim.faults import PLANS
from daemon.sim.files import json_objects, read_json
from daemon.sim.layout import Tree
from daemon.sim.outcome import outcomes
from daemon.sim.statemachine import STATES
from daemon.sim.view import COLOURS, faults_table, render

DEFAULT_DIR = Path("runtime/demo")
CONFIG_NAME = "burnin.toml"
VERDICTS = {0: "GREEN", 1: "YELLOW", 2: "RED"}
INTERRUPTED = 130


@dataclass(frozen=True)
class DemoDir:
    base: Path

    @property
    def tree(self) -> Tree:
        return Tree(self.base / "tree")

    @property
    def runtime(self) -> Path:
        return self.base / "runtime"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def config(self) -> Path:
        return self.base / CONFIG_NAME

    @property
    def status(self) -> Path:
        return self.runtime / "status.json"

    @property
    def alerts(self) -> Path:
        return self.logs / "alerts.jsonl"


def new_folder(parent: Path, now: float) -> Path:
    """A folder of its own for this demo run: `<parent>/<UTC time>` (`-2`, `-3`, … if taken)."""
    import time

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    for n in range(1, 1000):
        candidate = parent / (stamp if n == 1 else f"{stamp}-{n}")
        if not candidate.exists():
            return candidate
    raise ValueError(f"too many demo folders named {stamp} under {parent}")


def prepare(directory: Path) -> DemoDir:
    """A fresh demo folder. Nothing is ever deleted: a folder that holds an earlier demo (its
    report and alert log) or anything else is refused."""
    base = directory.resolve()
    if base.exists() and any(base.iterdir()):
        what = "holds an earlier demo" if (base / CONFIG_NAME).exists() else "is not empty"
        raise ValueError(f"{base} {what}; choose another --dir, or leave --dir out for a new "
                         f"folder under {DEFAULT_DIR}/")
    demo = DemoDir(base)
    demo.tree.create()
    demo.runtime.mkdir(parents=True)
    demo.logs.mkdir(parents=True)
    return demo


def config_text(demo: DemoDir, window_s: float, scale: float,
                disabled: Sequence[str] = ()) -> str:
    """The burnin config of the demo: the reference tree, its worker, the window."""
    states = ", ".join(f'"{s}"' for s in STATES)
    rules = ", ".join(f'"{r}"' for r in disabled)
    return (
        "# Written by `burnin demo`: burnin watching the built-in reference system.\n"
        f'[system]\nroot = "{demo.tree.root}"\nname = "reference-system"\n\n'
        f'[window]\nduration = "{window_s:g}s"\ntime_scale = {scale!r}\n\n'
        f"[state]\nstates = [{states}]\n\n"
        "# At the demo's compressions the SPEC limits (5 min / 15 min nominal) are a fraction\n"
        "# of a real second, shorter than a busy CI machine may pause a process; the injected\n"
        "# stale claim never clears, so it is caught with these limits too.\n"
        '[jobs]\nstale_claim_after = "30m"\npending_after = "1h"\n\n'
        f'[daemon]\nruntime_dir = "{demo.runtime}"\nlog_dir = "{demo.logs}"\n\n'
        f"[checks]\ndisabled = [{rules}]\n\n"
        f'[[process]]\nname = "worker"\npidfile = "{demo.tree.pidfile}"\n'
    )


def sim_command(demo: DemoDir, window_s: float, scale: float, faults: str, seed: int,
                start: float) -> list[str]:
    return [sys.executable, "-m", "daemon.sim", "run", "--root", str(demo.tree.root),
            "--window", f"{window_s:g}s", "--time-scale", repr(scale), "--faults", faults,
            "--seed", str(seed), "--start", repr(start)]


def daemon_command(demo: DemoDir) -> list[str]:
    return [sys.executable, "-m", "daemon", "run", "--config", str(demo.config), "--new-window"]


def child_env() -> dict[str, str]:
    """The environment of the children: this `daemon` package importable from any folder."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def spawn(cmd: Sequence[str], out: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group, its output to `out`."""
    with out.open("ab") as sink:
        return subprocess.Popen(list(cmd), stdout=sink, stderr=subprocess.STDOUT, cwd=cwd,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env=child_env())


def stop(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """Stop the process group of `proc`: SIGTERM, then SIGKILL after `grace_s`."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
    _signal_group(proc, signal.SIGKILL)  # stragglers of the group, if any


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _ready(tree: Tree) -> bool:
    files = all(p.exists() for p in (tree.pidfile, tree.state, tree.snapshot))
    return files and any(tree.inbox.glob("*.result.json"))


async def wait_ready(sim: subprocess.Popen[bytes], tree: Tree, clock: Clock,
                     timeout_s: float = 30.0) -> None:
    """Wait until the reference system has written its pidfile, state, snapshot, first result.

    The daemon starts only then, so its first checks do not see a half-made tree, nor the
    worker's one-off memory step while it handles its first job.
    """
    began = clock.monotonic()
    while not _ready(tree):
        if sim.poll() is not None:
            raise RuntimeError(f"the reference system exited with {sim.returncode}; "
                               "see logs/sim.out in the demo folder")
        if clock.monotonic() - began > timeout_s:
            raise RuntimeError(f"the reference system did not start within {timeout_s:g}s")
        await clock.sleep(0.05)


async def watch(daemon: subprocess.Popen[bytes], demo: DemoDir, live: Live, clock: Clock,
                poll_s: float) -> int:
    """Refresh the live view from status.json until the daemon exits; its exit code."""
    while daemon.poll() is None:
        live.update(render(read_json(demo.status)))
        await clock.sleep(poll_s)
    live.update(render(read_json(demo.status)))
    return daemon.returncode


def summary(console: Console, demo: DemoDir, code: int, scale: float) -> None:
    """Verdict, the injected faults and whether burnin caught them, report and alert log."""
    status = read_json(demo.status)
    status = status if isinstance(status, dict) else {}
    verdict = VERDICTS.get(code) or str(status.get("verdict") or f"exit {code}")
    faults = list(json_objects(demo.tree.fault_log))
    if faults:
        alerts = list(json_objects(demo.alerts))
        console.print(faults_table(outcomes(faults, alerts, scale)))
    window = status.get("window") if isinstance(status.get("window"), dict) else {}
    report = demo.runtime / "reports" / str(window.get("id") or "<window>") / "final.html"
    console.print(f"verdict: [{COLOURS.get(verdict, 'bold')}]{verdict}[/]")
    console.print(f"folder:  {demo.base}")
    console.print(f"report:  {report}")
    console.print(f"alerts:  {demo.alerts}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _sigterm_interrupts() -> object:
    """SIGTERM to the demo stops it like Ctrl-C (children are in their own groups)."""
    try:
        return signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _restore_sigterm(previous: object) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]


def _check(window: str, time_scale: float, faults: str) -> float:
    window_s = parse_duration(window)
    if window_s <= 0:
        raise ValueError(f"bad window {window!r}: must be longer than 0s")
    if not 0 < time_scale <= 1_000_000:
        raise ValueError(f"bad time scale {time_scale!r}: must be > 0 and <= 1000000")
    if faults not in PLANS:
        raise ValueError(f"unknown fault plan {faults!r} (known: {', '.join(PLANS)})")
    return window_s


def run_demo(window: str, time_scale: float, faults: str, directory: Path | None,
             seed: int | None, *, daemon_cmd: Sequence[str] | None = None,
             console: Console | None = None, poll_s: float = 0.5,
             disabled_rules: Sequence[str] = ()) -> int:
    """Run the demo; the daemon's exit code (0/1/2 verdict), 130 when interrupted.

    Raises ValueError for a bad window, time scale, fault plan or demo folder, before anything
    is started. `daemon_cmd` replaces the daemon's command line (tests use a stand-in);
    `disabled_rules` goes to `[checks] disabled` of the demo's config.
    """
    window_s = _check(window, time_scale, faults)
    console = console or Console()
    clock = SystemClock(time_scale)
    demo = prepare(directory or new_folder(DEFAULT_DIR, clock.time()))
    demo.config.write_text(config_text(demo, window_s, time_scale, disabled_rules),
                           encoding="utf-8")
    seed = seed if seed is not None else int(clock.time()) % 100_000
    sim_cmd = sim_command(demo, window_s, time_scale, faults, seed, clock.time())
    sim = spawn(sim_cmd, demo.logs / "sim.out", demo.base)
    daemon = None
    previous = _sigterm_interrupts()
    try:
        asyncio.run(wait_ready(sim, demo.tree, clock))
        daemon = spawn(daemon_cmd or daemon_command(demo), demo.logs / "daemon.out", demo.base)
        console.print(f"burnin demo: {window} window at time scale {time_scale:g}, "
                      f"faults {faults}, seed {seed}, folder {demo.base}")
        with Live(render(None), console=console, refresh_per_second=4) as live:
            code = asyncio.run(watch(daemon, demo, live, clock, poll_s))
        console.print()
    except KeyboardInterrupt:
        console.print("interrupted: stopping the daemon and the reference system")
        return INTERRUPTED
    finally:
        for proc in (daemon, sim):
            if proc is not None:
                stop(proc)
        _restore_sigterm(previous)
    summary(console, demo, code, time_scale)
    return code
