"""The `burnin` command line (SPEC §7)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import anyio

from daemon import __version__
from daemon.config import Config, effective, load_config, to_toml
from daemon.durations import parse_duration
from daemon.errors import AlreadyRunningError, ConfigError, RootMissingError

EX_CONFIG = 78
EX_TEMPFAIL = 75
CHECK_UNKNOWN = 3


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="burnin", description=__doc__)
    p.add_argument("--version", action="version", version=f"burnin {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon in the foreground")
    _common(run)
    run.add_argument("--window", type=_duration, help="window duration, e.g. 72h")
    run.add_argument("--time-scale", type=float, help="run the window N times faster")
    run.add_argument("--new-window", action="store_true", help="start a new window")

    check = sub.add_parser("check", help="run every check once (monitoring-plugin exit codes)")
    _common(check)
    check.add_argument("--only", default="health,position,integrity,jobs")
    check.add_argument("--format", choices=("text", "json"), default="text")

    status = sub.add_parser("status", help="show the running daemon's status.json")
    status.add_argument("--config")
    status.add_argument("--format", choices=("text", "json"), default="text")

    watch = sub.add_parser("watch", help="live view of status.json, refreshed every 2 s")
    watch.add_argument("--config")
    watch.add_argument("--interval", type=float, default=2.0)

    report = sub.add_parser("report", help="render a window's report")
    report.add_argument("--config")
    report.add_argument("--window", dest="window_id")
    report.add_argument("--format", choices=("md", "json", "html"), default="md")
    report.add_argument("-o", "--output")

    demo = sub.add_parser("demo", help="run the reference system under burn-in")
    demo.add_argument("--window", default="72h")
    demo.add_argument("--time-scale", type=float, default=864.0)
    demo.add_argument("--faults", choices=("scripted", "none"), default="scripted")
    demo.add_argument("--dir")
    demo.add_argument("--seed", type=int)

    reload = sub.add_parser("reload", help="ask the running daemon to reload its config "
                            "(what SIGHUP does; works on Windows too)")
    reload.add_argument("--config")

    config = sub.add_parser("config", help="validate and print the effective config")
    _common(config)

    ack = sub.add_parser("ack", help="acknowledge an open alert")
    ack.add_argument("fingerprint")
    ack.add_argument("--config")
    ack.add_argument("--for", dest="for_", type=_duration)
    ack.add_argument("--reason", default="")

    sil = sub.add_parser("silence", help="silence alerts by code and/or subject")
    sil.add_argument("--config")
    sil.add_argument("--code")
    sil.add_argument("--subject")
    sil.add_argument("--for", dest="for_", type=_duration)
    sil.add_argument("--reason")
    sil.add_argument("--list", action="store_true")
    sil.add_argument("--remove", metavar="ID")
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML config file (default: built-in defaults)")
    p.add_argument("--root", help="observed root (overrides system.root)")


def _load(args: argparse.Namespace) -> Config:
    overrides: dict[str, dict[str, Any]] = {}
    if getattr(args, "window", None) is not None and args.command == "run":
        overrides.setdefault("window", {})["duration"] = args.window
    if getattr(args, "time_scale", None) is not None and args.command == "run":
        overrides.setdefault("window", {})["time_scale"] = args.time_scale
    return load_config(args.config, root=getattr(args, "root", None), overrides=overrides)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = _COMMANDS[args.command]
    try:
        return int(handler(args))
    except ConfigError as exc:
        print(f"burnin: {exc}", file=sys.stderr)
        return CHECK_UNKNOWN if args.command == "check" else EX_CONFIG
    except KeyboardInterrupt:
        return 130


# -- run ---------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from daemon.app import Daemon
    from daemon.logsetup import configure, get_logger

    cfg = _load(args)
    configure(cfg.log_dir, cfg.daemon.log_level)
    log = get_logger()
    daemon = Daemon(cfg, new_window=args.new_window, log=log, reload=lambda: _load(args))
    try:
        return anyio.run(_serve, daemon, backend="asyncio")
    except AlreadyRunningError as exc:
        print(f"burnin: {exc}", file=sys.stderr)
        return EX_TEMPFAIL


HARD_STOP_S = 4.5


async def _serve(daemon: Any) -> int:
    from daemon.service.signals import install

    def stop() -> None:
        daemon.request_stop()
        _arm_hard_stop(daemon.log)

    uninstall = install(asyncio.get_running_loop(), stop, daemon.request_reload)
    try:
        return int(await daemon.serve())
    finally:
        uninstall()


def _arm_hard_stop(log: Any) -> None:
    """SPEC §7: stop within 5 s. A rule stuck in an uncancellable read (NFS, FIFO) must not
    hold the process: everything durable is already on disk (atomic files, SQLite), so after
    HARD_STOP_S the process exits 0 even if a thread is still blocked."""
    import os
    import threading

    def hard_exit() -> None:
        log.error("hard_stop", reason=f"shutdown took longer than {HARD_STOP_S}s")
        os._exit(0)

    timer = threading.Timer(HARD_STOP_S, hard_exit)
    timer.daemon = True
    timer.start()


# -- check -------------------------------------------------------------------------------------

def cmd_check(args: argparse.Namespace) -> int:
    from daemon.logsetup import configure, get_logger
    from daemon.model import CHECKS
    from daemon.oneshot import check_once, exit_code

    cfg = _load(args)
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = [c for c in only if c not in CHECKS]
    if unknown:
        print(f"burnin: --only: unknown check(s) {', '.join(unknown)}", file=sys.stderr)
        return CHECK_UNKNOWN
    configure(None, cfg.daemon.log_level)
    try:
        with _progress() as progress:
            doc = anyio.run(lambda: check_once(cfg, only, get_logger(), progress))
    except RootMissingError as exc:
        print(f"BURNIN UNKNOWN - {exc}")
        return CHECK_UNKNOWN
    if args.format == "json":
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(_check_text(doc))
    return exit_code(doc["findings"])


class _progress:
    """A rich progress bar on stderr when it is a terminal; a no-op callback otherwise."""

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            self._bar = None
            return None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.start()
        self._tasks: dict[str, Any] = {}
        return self.update

    def update(self, label: str, done: int, total: int) -> None:
        assert self._bar is not None
        if label not in self._tasks:
            self._tasks[label] = self._bar.add_task(label, total=total)
        self._bar.update(self._tasks[label], completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def safe(text: object) -> str:
    """Text from the observed tree made safe for a terminal (no control characters)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def _check_text(doc: dict[str, Any]) -> str:
    findings = doc["findings"]
    tiers = {s: sum(1 for f in findings if f["severity"] == s)
             for s in ("CRITICAL", "HIGH", "MEDIUM", "INFO")}
    head = (f"BURNIN {doc['verdict']} - {len(findings)} finding(s) "
            f"({', '.join(f'{n} {s}' for s, n in tiers.items() if n) or 'none'}) "
            f"| findings={len(findings)} critical={tiers['CRITICAL']} high={tiers['HIGH']}")
    lines = [head]
    for f in findings:
        lines.append(f"{f['severity']:8} {f['code']:32} {safe(f['subject'])}: {safe(f['message'])}")
    return "\n".join(lines)


# -- status, watch, report, demo, config, ack, silence ------------------------------------------

def cmd_status(args: argparse.Namespace) -> int:
    import time

    from rich.console import Console

    from daemon.service.statusview import exit_code, load_status, render
    from daemon.status import STALE_AFTER_S

    cfg = load_config(args.config)
    doc, problem = load_status(cfg.runtime_dir / "status.json")
    now = time.time()
    if args.format == "json":
        if doc is None:
            print(f"burnin: {problem}", file=sys.stderr)
        else:
            print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        Console().print(render(doc, now=now, stale_after_s=STALE_AFTER_S, problem=problem))
    return exit_code(doc, now, stale_after_s=STALE_AFTER_S)


def cmd_reload(args: argparse.Namespace) -> int:
    from daemon.service.signals import request_reload

    path = request_reload(load_config(args.config).runtime_dir)
    print(f"reload requested ({path}); the daemon picks it up within a second")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from daemon.service.statusview import watch

    cfg = load_config(args.config)
    return watch(cfg.runtime_dir / "status.json", interval_s=args.interval)


def cmd_report(args: argparse.Namespace) -> int:
    from daemon.report import ReportError, render

    cfg = load_config(args.config)
    try:
        out = render(cfg.runtime_dir, args.window_id, args.format)
    except ReportError as exc:
        print(f"burnin: {exc}", file=sys.stderr)
        return 1
    data = out.encode() if isinstance(out, str) else out
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from daemon.sim.demo import run_demo

    try:
        return run_demo(args.window, args.time_scale, args.faults,
                        Path(args.dir) if args.dir else None, args.seed)
    except (ValueError, RuntimeError) as exc:
        print(f"burnin demo: {exc}", file=sys.stderr)
        return EX_CONFIG


def cmd_config(args: argparse.Namespace) -> int:
    cfg = _load(args)
    print(f"# effective config ({cfg.source}); secrets masked")
    print(to_toml(effective(cfg)))
    return 0


def cmd_ack(args: argparse.Namespace) -> int:
    import time

    from daemon.alerts.cli import ack

    return ack(load_config(args.config), args.fingerprint, args.for_, args.reason, time.time())


def cmd_silence(args: argparse.Namespace) -> int:
    import time

    from daemon.alerts import cli as alerts_cli

    cfg = load_config(args.config)
    if args.list:
        return alerts_cli.silence_list(cfg, time.time())
    if args.remove:
        return alerts_cli.silence_remove(cfg, args.remove)
    if args.for_ is None or not args.reason or not (args.code or args.subject):
        print("burnin: silence needs --for, --reason and --code and/or --subject",
              file=sys.stderr)
        return 2
    return alerts_cli.silence_add(cfg, args.code, args.subject, args.for_, args.reason,
                                  time.time())


_COMMANDS = {
    "run": cmd_run, "check": cmd_check, "status": cmd_status, "watch": cmd_watch,
    "report": cmd_report, "demo": cmd_demo, "config": cmd_config, "ack": cmd_ack,
    "silence": cmd_silence, "reload": cmd_reload,
}
