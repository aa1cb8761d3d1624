"""The `burnin` command line (SPEC §7)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from daemon.cliargs import (
    CHECK_UNKNOWN,
    EX_CONFIG,
    EX_TEMPFAIL,
    EX_USAGE,
    command_of,
    parser,
)
from daemon.config import Config, effective, load_config, resolve_secrets, to_toml
from daemon.durations import format_duration
from daemon.errors import AlreadyRunningError, ConfigError, RootMissingError

STATE_ONLY = frozenset({"status", "watch", "report", "ack", "silence", "reload", "config"})
PLUGIN_STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def _load(args: argparse.Namespace) -> Config:
    """The config for `args`; state-only commands need no channel secret (SPEC §7)."""
    overrides: dict[str, dict[str, Any]] = {}
    if getattr(args, "window", None) is not None and args.command == "run":
        overrides.setdefault("window", {})["duration"] = args.window
    if getattr(args, "time_scale", None) is not None and args.command == "run":
        overrides.setdefault("window", {})["time_scale"] = args.time_scale
    from daemon.checks.registry import check_disabled  # imports every rule: after cpu_start

    cfg = load_config(args.config, root=getattr(args, "root", None), overrides=overrides,
                      secrets=args.command not in STATE_ONLY)
    check_disabled(cfg)
    return cfg


def entry() -> None:
    """The `burnin` program (and `python -m daemon`): `main`, then exit. A one-shot `burnin
    check` leaves without the interpreter's teardown (its output flushed first): it holds no
    file, lock, thread or child that needs closing, and tearing down numpy and every module
    cost a Nagios-style check ~35 ms per run (bench/RESULTS.md, `os._exit` row)."""
    code = main()
    if command_of(sys.argv[1:]) == "check":
        _leave(code)
    raise SystemExit(code)


def _leave(code: int) -> None:
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (`| head`), a closed one
            stream.flush()
    os._exit(code)


EX_PIPE = 141  # as a shell reports a program ended by SIGPIPE


def _drop_stdout() -> None:
    """Point stdout at the null device: the interpreter's own flush at exit must not fail
    again on the broken pipe."""
    import os

    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(command_of(argv)).parse_args(argv)
    handler = _COMMANDS[args.command]
    try:
        return int(handler(args))
    except ConfigError as exc:
        print(f"burnin: {exc}", file=sys.stderr)
        if args.command != "check":
            return EX_CONFIG
        _check_unknown(args, str(exc))
        return CHECK_UNKNOWN
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`burnin check | head`): not a crash
        _drop_stdout()
        return EX_PIPE
    except Exception as exc:  # a crash must not look like a verdict (1/2): exit 70
        from daemon.crash import crashed

        return crashed(args.command, exc)


# -- run ---------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    import anyio

    from daemon.app import Daemon
    from daemon.folders import require_writable
    from daemon.logsetup import configure, get_logger
    from daemon.window.store import resume_scale

    cfg = _load(args)
    _require_root(cfg, "--root" if args.root else "system.root")
    require_writable(cfg.source, {"daemon.runtime_dir": cfg.runtime_dir,
                                  "daemon.log_dir": cfg.log_dir})
    resume_scale(cfg.runtime_dir, cfg.window.time_scale,  # the window owns its scale (78)
                 "time_scale" in cfg.window.model_fields_set, cfg.source, args.new_window)
    done = _completed_window(cfg, args)
    if done is not None:
        return done
    configure(cfg.log_dir, cfg.daemon.log_level)
    log = get_logger()
    daemon = Daemon(cfg, new_window=args.new_window, log=log, reload=lambda: _load(args))
    daemon.on_started, daemon.on_window_end = _start_line, _window_end_line
    try:
        code = anyio.run(_serve, daemon, backend="asyncio")
    except AlreadyRunningError as exc:
        print(f"burnin: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    return _end_line(daemon, code, args.service)


def _require_root(cfg: Config, key: str) -> None:
    """SPEC §7: a root that does not exist is refused (78) before anything is written."""
    if not cfg.root.is_dir():
        raise ConfigError(cfg.source, key,
                          f"observed root {cfg.root} does not exist or is not a folder")


def _say(text: str) -> None:
    print(f"burnin run: {text}", flush=True)


def _start_line(daemon: Any) -> None:
    from daemon.clock import iso

    w, cfg = daemon.window, daemon.cfg
    state = "resumed" if w.restarts else "new"
    real_s = max(0.0, w.ends_at - daemon.clock.time())
    _say(f"window {w.id} ({state}, {format_duration(w.duration_s)}), root {cfg.root}, "
         f"time scale {w.time_scale:g}, ends at {iso(w.ends_at)} "
         f"(in {format_duration(round(real_s, 1))} real), "
         f"status {cfg.runtime_dir / 'status.json'}")


def _report_path(cfg: Config, window_id: str) -> Path:
    from daemon.report import reports_dir

    return reports_dir(cfg.runtime_dir, window_id) / "final.html"


def _window_end_line(window: Any, folder: Path) -> None:
    """At the window's end, before the verdict is drained to the channels."""
    from daemon.window.verdict import LABELS

    _say(f"window {window.id} ended: verdict {window.verdict} ({LABELS[window.verdict]}), "
         f"report {folder / 'final.html'}")


def _end_line(daemon: Any, code: int, service: bool) -> int:
    """The exit: a stopped window says it resumes; under --service a verdict exits 0."""
    window = getattr(daemon, "window", None)
    if window is None:
        return code
    if window.verdict is None:
        _say(f"stopped; window {window.id} resumes at the next `burnin run`")
        return code
    return 0 if service else code


def _completed_window(cfg: Config, args: argparse.Namespace) -> int | None:
    """`run` on a completed window does not silently open a new one: it says so and exits
    with that window's verdict (0 with --service). --new-window or on_end=continue starts one."""
    from daemon.clock import SystemClock
    from daemon.window.store import WindowStore
    from daemon.window.verdict import EXIT_CODES, LABELS

    if args.new_window or cfg.window.on_end == "continue":
        return None
    window = WindowStore(cfg.runtime_dir, SystemClock()).current()
    if window is None or window.phase == "running" or window.verdict not in EXIT_CODES:
        return None
    from daemon.service.sdnotify import Notifier

    with Notifier() as notifier:  # systemd (Type=notify): started, then stopping, with why
        notifier.ready(f"window {window.id} already ended: verdict {window.verdict}")
        notifier.stopping()
    print(f"burnin run: window {window.id} has already ended: verdict {window.verdict} "
          f"({LABELS[window.verdict]}), report {_report_path(cfg, window.id)}\n"
          f"burnin run: not starting a new window; `burnin run --new-window` starts one",
          file=sys.stderr)
    return 0 if args.service else EXIT_CODES[window.verdict]


HARD_STOP_S = 4.5


async def _serve(daemon: Any) -> int:
    import asyncio

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
    cpu_start = _cpu_start(args.only)  # first: the host CPU sample spans the whole run
    from daemon.echolog import configure, get_logger  # no structlog import: writes no file
    from daemon.oneshot import check_sync, exit_code

    cfg = _load(args)
    configure(None, cfg.daemon.log_level)
    try:
        with _progress() as progress:  # no event loop (no asyncio, anyio, ssl imported)
            doc = check_sync(cfg, args.only, get_logger(), progress, cpu_start)
    except RootMissingError as exc:
        _check_unknown(args, str(exc))
        return CHECK_UNKNOWN
    code = exit_code(doc["findings"])
    if args.format == "json":
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(_check_text(doc, code))
    return code


def _cpu_start(only: list[str]) -> Any:
    """The one-shot's first host CPU reading, when the health check runs (else None)."""
    if "health" not in only:
        return None
    import time

    from daemon.sources.host import first_reading

    return first_reading(time)  # time.monotonic, what SystemClock reads


def _check_unknown(args: argparse.Namespace, problem: str) -> None:
    """Could not check: the plugin's UNKNOWN line on stdout (Nagios drops stderr)."""
    if getattr(args, "format", "text") == "json":
        print(json.dumps({"schema": "burnin.check/1", "verdict": None, "state": "UNKNOWN",
                          "error": problem, "findings": [], "metrics": {}}, indent=2))
    else:
        print(f"BURNIN UNKNOWN - {safe(problem)}")


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


def _check_text(doc: dict[str, Any], code: int) -> str:
    """Monitoring-plugin output: `BURNIN <STATE> - <summary> | <perfdata>`, then the findings.
    The state word follows the exit code; the verdict colour is in the summary."""
    findings = doc["findings"]
    tiers = {s: sum(1 for f in findings if f["severity"] == s)
             for s in ("CRITICAL", "HIGH", "MEDIUM", "INFO")}
    counts = ", ".join(f"{n} {s}" for s, n in tiers.items() if n) or "none"
    perf = " ".join([f"findings={len(findings)}"] + [f"{s.lower()}={n}" for s, n in tiers.items()])
    lines = [f"BURNIN {PLUGIN_STATES[code]} - verdict {doc['verdict']}, "
             f"{len(findings)} finding(s) ({counts}) | {perf}"]
    for f in findings:
        lines.append(f"{f['severity']:8} {f['code']:32} {safe(f['subject'])}: {safe(f['message'])}")
    return "\n".join(lines)


# -- status, watch, report, demo, config, ack, silence ------------------------------------------

def cmd_status(args: argparse.Namespace) -> int:
    import time

    from rich.console import Console

    from daemon.service.statusview import exit_code, load_status, render
    from daemon.status import STALE_AFTER_S

    cfg = _load(args)
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

    cfg = _load(args)
    if not (cfg.runtime_dir / "burnin.lock").exists():
        print(f"burnin reload: no daemon state in {cfg.runtime_dir}: no daemon has run here; "
              "run it where `burnin run` runs or pass that daemon's --config", file=sys.stderr)
        return 1
    path = request_reload(cfg.runtime_dir)
    print(f"reload requested ({path}); the daemon picks it up within a second")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from daemon.service.statusview import watch

    cfg = _load(args)
    return watch(cfg.runtime_dir / "status.json", interval_s=args.interval)


def cmd_report(args: argparse.Namespace) -> int:
    from daemon.report import ReportError, render
    from daemon.window.verdict import Thresholds

    cfg = _load(args)
    try:
        out = render(cfg.runtime_dir, args.window_id, args.format,
                     Thresholds.from_config(cfg.thresholds))
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
    try:
        resolve_secrets(cfg)  # only to show which are set (masked); a missing one is a warning
    except ConfigError as exc:
        print(f"burnin: warning: {exc.key}: {exc.problem} (`burnin run` and `burnin check` "
              "need it; the state-only commands do not)", file=sys.stderr)
    print(f"# effective config ({cfg.source}); secrets masked")
    print(to_toml(effective(cfg)))
    return 0


def _alert_state(cfg: Config, command: str) -> Path | None:
    """The daemon's alert database, or None after saying why there is none (never created
    here: a silence no daemon reads is worse than a refusal)."""
    db = cfg.runtime_dir / "alerts.sqlite3"
    if db.is_file():
        return db
    print(f"burnin {command}: no daemon state in {cfg.runtime_dir} ({db.name} is missing); "
          "run it where `burnin run` runs (same working directory) or pass that daemon's "
          "--config", file=sys.stderr)
    return None


def _known_code(code: str) -> str | None:
    """None if `code` is a finding code; else why not, with the nearest valid ones."""
    import difflib

    from daemon.catalog import CATALOG

    if code in CATALOG:
        return None
    near = difflib.get_close_matches(code, list(CATALOG), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(near)}?" if near else "see `burnin silence --help`"
    return f"unknown finding code {code!r}; {hint} (codes: docs/contract.md)"


def cmd_ack(args: argparse.Namespace) -> int:
    import time

    from daemon.alerts.cli import ack

    cfg = _load(args)
    db = _alert_state(cfg, "ack")
    if db is None:
        return 1
    code = ack(cfg, args.fingerprint, args.for_, args.reason, time.time())
    if code != 0:
        near = _nearest_open(db, args.fingerprint)
        hint = f"did you mean {' or '.join(near)}?" if near else "`burnin status` lists them"
        print(f"burnin ack: no open alert has that fingerprint; {hint}", file=sys.stderr)
    return code


def _nearest_open(db_path: Path, fingerprint: str) -> list[str]:
    """Fingerprints of firing conditions (what `ack` takes) closest to a mistyped one."""
    import difflib

    from daemon.alerts import store
    from daemon.model import Kind

    db = store.connect(db_path)
    try:
        firing = [s.fp for s in store.load_states(db).values()
                  if s.status == "firing" and s.kind == Kind.CONDITION]
    finally:
        db.close()
    return difflib.get_close_matches(fingerprint, firing, n=3, cutoff=0.6)


def cmd_silence(args: argparse.Namespace) -> int:
    import time

    from daemon.alerts import cli as alerts_cli

    if not (args.list or args.remove):
        problem = _silence_problem(args)
        if problem:
            print(f"burnin silence: {problem}", file=sys.stderr)
            return EX_USAGE
    cfg = _load(args)
    if _alert_state(cfg, "silence") is None:
        return 1
    if args.list:
        return alerts_cli.silence_list(cfg, time.time())
    if args.remove:
        return alerts_cli.silence_remove(cfg, args.remove)
    return alerts_cli.silence_add(cfg, args.code, args.subject, args.for_, args.reason,
                                  time.time())


def _silence_problem(args: argparse.Namespace) -> str | None:
    if args.for_ is None or not args.reason or not (args.code or args.subject):
        return "a new silence needs --for, --reason and --code and/or --subject"
    return _known_code(args.code) if args.code else None


def cmd_fleet(args: argparse.Namespace) -> int:
    from daemon.fleet import cmd

    return cmd(args)


_COMMANDS = {
    "run": cmd_run, "check": cmd_check, "status": cmd_status, "watch": cmd_watch,
    "report": cmd_report, "demo": cmd_demo, "config": cmd_config, "ack": cmd_ack,
    "silence": cmd_silence, "reload": cmd_reload, "fleet": cmd_fleet,
}
