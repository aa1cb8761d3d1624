"""The two processes of the reference system.

`serve_system` is the system process: it writes the worker pidfile, ticks the system on the
clock until SIGTERM/SIGINT or `stop_after`, and dies at once (exit 75, pidfile left behind, as
a killed process would) when a fault crashes it. `supervise` is the `run` process: it starts the
system process, restarts it after the fault's down time, and on SIGTERM/SIGINT stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass

from daemon.clock import Clock, iso
from daemon.sim.files import append_json, json_objects, replace_bytes
from daemon.sim.inject import inject
from daemon.sim.layout import Tree
from daemon.sim.system import Crash, Options, System, make_producer

CRASH_EXIT = 75


@dataclass(frozen=True)
class RunSpec:
    opts: Options
    tick_s: float = 0.05  # real seconds between ticks
    stop_after_s: float | None = None  # nominal seconds; None = until signalled


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_system(spec: RunSpec, clock: Clock) -> int:
    stop = _stop_event()
    system = System(spec.opts, inject)
    system.skip_injected_faults()
    pidfile = system.tree.pidfile
    replace_bytes(pidfile, f"{os.getpid()}\n".encode())
    append_json(system.tree.private / "processes.jsonl",
                {"pid": os.getpid(), "incarnation": spec.opts.incarnation,
                 "started_at": iso(clock.time())})
    try:
        while not stop.is_set() and not _finished(spec, system, clock.time()):
            system.tick(clock.time())
            await clock.sleep(spec.tick_s)
    except Crash:
        os._exit(CRASH_EXIT)  # no cleanup: the claim and the pidfile stay, as after a kill
    system.publish_snapshot(clock.time())
    with contextlib.suppress(OSError):
        if pidfile.read_text().strip() == str(os.getpid()):
            pidfile.unlink()
    return 0


def _finished(spec: RunSpec, system: System, now: float) -> bool:
    return spec.stop_after_s is not None and system.nominal(now) >= spec.stop_after_s


def system_command(spec: RunSpec, incarnation: int) -> list[str]:
    """The command line of one incarnation of the system process."""
    o = spec.opts
    cmd = [sys.executable, "-m", "daemon.sim", "system", "--root", str(o.root),
           "--time-scale", repr(o.scale), "--window", f"{o.window_s}s", "--faults", o.faults,
           "--seed", str(o.seed), "--start", repr(o.start), "--incarnation", str(incarnation),
           "--tick", repr(spec.tick_s), "--snapshot-every", repr(o.snapshot_every_s),
           "--no-produce"]
    if o.jobs_per_second:
        cmd += ["--jobs-per-second", repr(o.jobs_per_second)]
    if spec.stop_after_s is not None:
        cmd += ["--stop-after", f"{spec.stop_after_s}s"]
    return cmd


def crash_down_s(tree: Tree, default: float = 1.0) -> float:
    """How long the last crash fault keeps the worker down (from the fault log)."""
    records = list(json_objects(tree.fault_log))
    if not records:
        return default
    return float(records[-1].get("params", {}).get("down_real_s", default))


async def produce(spec: RunSpec, tree: Tree, clock: Clock) -> None:
    """The producer runs in the supervisor: jobs keep arriving while the worker is down."""
    producer = make_producer(spec.opts, tree, "job")
    while not tree.pidfile.exists():  # no job before the first worker is up
        await clock.sleep(spec.tick_s)
    while True:
        now = clock.time()
        producer.tick(now, (now - spec.opts.start) * spec.opts.scale)
        await clock.sleep(spec.tick_s)


async def supervise(spec: RunSpec, clock: Clock) -> int:
    stop = _stop_event()
    tree = Tree(spec.opts.root).create()
    producing = asyncio.ensure_future(produce(spec, tree, clock))
    try:
        return await _supervise(spec, tree, stop)
    finally:
        producing.cancel()


async def _supervise(spec: RunSpec, tree: Tree, stop: asyncio.Event) -> int:
    incarnation = 0
    while True:
        proc = await asyncio.create_subprocess_exec(*system_command(spec, incarnation))
        await _first(proc.wait(), stop.wait())
        if stop.is_set():
            return await _terminate(proc)
        if proc.returncode != CRASH_EXIT:
            return proc.returncode or 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), crash_down_s(tree))
            return 0
        incarnation += 1


async def _first(*aws: object) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]  # type: ignore[arg-type]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


async def _terminate(proc: asyncio.subprocess.Process, grace_s: float = 5.0) -> int:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return 0
