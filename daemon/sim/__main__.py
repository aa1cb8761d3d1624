"""`python -m daemon.sim run|system ...`: the reference system as OS processes."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from daemon.clock import SystemClock
from daemon.durations import parse_duration
from daemon.sim.faults import PLANS
from daemon.sim.layout import Tree
from daemon.sim.runner import RunSpec, serve_system, supervise
from daemon.sim.system import Options


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0: {text!r}")
    return value


def _not_negative(text: str) -> float:
    """A finite number >= 0 (`--snapshot-every 0`: a snapshot after every change)."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return _positive(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m daemon.sim", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "system"):
        s = sub.add_parser(name)
        s.add_argument("--root", type=Path, required=True)
        s.add_argument("--time-scale", type=_positive, default=864.0)
        s.add_argument("--window", type=_duration, default=72 * 3600.0)
        s.add_argument("--faults", choices=sorted(PLANS), default="scripted")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--start", type=float, default=None, help="epoch of nominal time 0")
        s.add_argument("--jobs-per-second", type=_positive, default=None)
        s.add_argument("--stop-after", type=_duration, default=None, help="nominal duration")
        s.add_argument("--tick", type=_positive, default=0.05, help="real seconds")
        s.add_argument("--snapshot-every", type=_not_negative, default=0.5,
                       help="real seconds (0: after every change)")
        s.add_argument("--no-produce", dest="produce", action="store_false",
                       help="(system) leave job submission to the supervisor")
        s.add_argument("--incarnation", type=int, default=0)
    return p


def spec_from(args: argparse.Namespace, clock: SystemClock) -> RunSpec:
    opts = Options(root=args.root.resolve(), scale=args.time_scale, window_s=args.window,
                   start=args.start if args.start is not None else clock.time(),
                   faults=args.faults, seed=args.seed, incarnation=args.incarnation,
                   jobs_per_second=args.jobs_per_second, produce=args.produce,
                   snapshot_every_s=args.snapshot_every)
    return RunSpec(opts, tick_s=args.tick, stop_after_s=args.stop_after)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    clock = SystemClock(args.time_scale)
    spec = spec_from(args, clock)
    try:
        Tree(spec.opts.root).create()
    except OSError as exc:
        print(f"error: cannot lay out the tree at {spec.opts.root}: {exc}", file=sys.stderr)
        return 2
    if args.command == "system":
        return asyncio.run(serve_system(spec, clock))
    return asyncio.run(supervise(spec, clock))


if __name__ == "__main__":
    sys.exit(main())
