"""The `burnin` argument parser: every option with help, every command with its exit codes and
an example (SPEC §7). Usage errors exit 64 (EX_USAGE), never 0/1/2 (the verdict codes)."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from daemon import __version__
from daemon.durations import duration_arg
from daemon.model import CHECKS

EX_USAGE = 64
EX_TEMPFAIL = 75
EX_CONFIG = 78
CHECK_UNKNOWN = 3

DESCRIPTION = """\
burnin supervises a 24-72 h burn-in of a file-based system and ends with a verdict:
GREEN (GO), YELLOW (CONDITIONAL) or RED (NO-GO). `burnin COMMAND --help` shows each
command's options, exit codes and an example."""

EPILOG = """\
exit codes (all commands): 64 command-line usage error, 78 bad config (check: 3).
Durations are written 90s, 5m, 1h, 3d. The public interface is documented in
docs/contract.md."""


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on exit 64: exit 2 is the RED verdict."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


duration = duration_arg  # the argparse type of every duration option


def duration_text(text: str) -> str:
    """A positive duration, kept as written (`burnin demo --window`)."""
    if duration(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be longer than 0s")
    return text


def time_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text} must be > 0 and <= 1000000")
    return value


def check_names(text: str) -> list[str]:
    """`--only`: comma-separated check names, each one of CHECKS."""
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in CHECKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown check(s) {', '.join(unknown) or repr(text)}; valid: {', '.join(CHECKS)}")
    return names


def _sub(sub: argparse._SubParsersAction, name: str, summary: str, codes: str,
         example: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=summary,
                          epilog=f"exit codes: {codes}\n\nexample:\n  {example}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _config(p: argparse.ArgumentParser, root: bool = False) -> None:
    p.add_argument("--config", metavar="FILE",
                   help="TOML config file (default: built-in defaults, the seed layout)")
    if root:
        p.add_argument("--root", metavar="DIR",
                       help="observed root folder (overrides system.root); must exist")


def parser(command: str | None = None) -> Parser:
    """The `burnin` parser; with `command` (the word the command line starts with), only that
    command's options are built — what every `burnin check` run by Nagios needs, without
    building (and translating) the help of eleven commands."""
    p = Parser(prog="burnin", description=DESCRIPTION, epilog=EPILOG,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"burnin {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add in _COMMANDS.items():
        if command is None or name == command:
            add(sub)
    return p


def command_of(argv: list[str]) -> str | None:
    """The command `argv` starts with, if it is one (else None: build every command)."""
    return argv[0] if argv and argv[0] in _COMMANDS else None


def _fleet(sub: argparse._SubParsersAction) -> None:
    from daemon.fleet import add_parser as add_fleet  # `burnin fleet` (daemon/fleet.py)

    add_fleet(sub)


def _run(sub: argparse._SubParsersAction) -> None:
    run = _sub(sub, "run", "run the daemon in the foreground (service managers run it so)",
               "0/1/2 verdict GREEN/YELLOW/RED at the window's end (0 with --service); "
               "0 on SIGTERM/SIGINT; 75 another daemon holds the runtime folder; "
               "78 bad config or missing root",
               "burnin run --root /srv/system --window 72h")
    _config(run, root=True)
    run.add_argument("--window", type=duration, metavar="DUR",
                     help="window duration (window.duration), e.g. 72h")
    run.add_argument("--time-scale", type=time_scale, metavar="N",
                     help="run the window N times faster (window.time_scale); 864 = 72h in 5m")
    run.add_argument("--new-window", action="store_true",
                     help="start a new window even if one is running or has completed")
    run.add_argument("--service", action="store_true",
                     help="under a service wrapper that restarts on a non-zero exit (WinSW): "
                          "exit 0 after the verdict (the verdict is in status.json and the "
                          "report) and never open a new window on a completed one")


def _check(sub: argparse._SubParsersAction) -> None:
    check = _sub(sub, "check", "run every check once, now; a Nagios/Icinga plugin",
                 "0 OK (nothing above INFO), 1 WARNING (worst MEDIUM or HIGH), "
                 "2 CRITICAL (a CRITICAL finding), 3 UNKNOWN (bad config, root missing)",
                 "burnin check --root /srv/system --only health,jobs")
    _config(check, root=True)
    check.add_argument("--only", type=check_names, default=list(CHECKS), metavar="NAMES",
                       help=f"comma-separated checks to run (valid: {','.join(CHECKS)}; "
                            "default: all)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: plugin line then one line per finding; json: burnin.check/1")


def _status(sub: argparse._SubParsersAction) -> None:
    status = _sub(sub, "status", "show the running daemon's runtime/status.json",
                  "0 fresh, 1 stale (older than 60 s) or missing",
                  "burnin status --config /etc/burnin/burnin.toml --format json")
    _config(status)
    status.add_argument("--format", choices=("text", "json"), default="text",
                        help="text: a table; json: status.json as it is")


def _watch(sub: argparse._SubParsersAction) -> None:
    watch = _sub(sub, "watch", "live terminal view of status.json",
                 "0 when left with Ctrl-C", "burnin watch --interval 5")
    _config(watch)
    watch.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                       help="refresh period in seconds (default 2)")


def _report(sub: argparse._SubParsersAction) -> None:
    report = _sub(sub, "report", "render a window's report from the runtime state",
                  "0 written, 1 no such window or no state",
                  "burnin report --format html -o report.html")
    _config(report)
    report.add_argument("--window", dest="window_id", metavar="ID",
                        help="window id (default: the current or last window)")
    report.add_argument("--format", choices=("md", "json", "html"), default="md",
                        help="md (default), json or html (self-contained, with charts)")
    report.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")


def _demo(sub: argparse._SubParsersAction) -> None:
    demo = _sub(sub, "demo", "run the built-in reference system under burn-in, live",
                "0/1/2 the verdict; 130 interrupted; 64 bad argument; 78 a non-empty --dir",
                "burnin demo --faults none --window 24h --time-scale 2880")
    demo.add_argument("--window", type=duration_text, default="72h", metavar="DUR",
                      help="nominal window (default 72h)")
    demo.add_argument("--time-scale", type=time_scale, default=864.0, metavar="N",
                      help="compression (default 864: 72h in 5 real minutes)")
    demo.add_argument("--faults", choices=("scripted", "none"), default="scripted",
                      help="scripted (default): inject the fault plan; none: a healthy run")
    demo.add_argument("--dir", metavar="DIR",
                      help="demo folder, new or empty (default: a new timestamped folder "
                           "under runtime/demo/)")
    demo.add_argument("--seed", type=int, metavar="N", help="random seed of the workload")


def _config_cmd(sub: argparse._SubParsersAction) -> None:
    config = _sub(sub, "config", "validate and print the effective config, secrets masked",
                  "0 valid, 78 invalid (file, key path and problem on stderr)",
                  "burnin config --config config/burnin.example.toml")
    _config(config, root=True)


def _reload(sub: argparse._SubParsersAction) -> None:
    reload = _sub(sub, "reload", "ask the running daemon to reload its config (what SIGHUP "
                  "does; works on Windows too)",
                  "0 requested, 1 no daemon state here, 78 bad config",
                  "burnin reload --config /etc/burnin/burnin.toml")
    _config(reload)


def _ack(sub: argparse._SubParsersAction) -> None:
    ack = _sub(sub, "ack", "acknowledge an open alert: its repeats stop",
               "0 acknowledged, 1 unknown fingerprint or no daemon state here",
               "burnin ack 95c5dbf7d6282ae8 --for 2h --reason 'restarting it'")
    ack.add_argument("fingerprint", help="the alert's fingerprint (as `burnin status` and "
                     "logs/alerts.jsonl show it)")
    _config(ack)
    ack.add_argument("--for", dest="for_", type=duration, metavar="DUR",
                     help="how long (nominal); default: until it resolves")
    ack.add_argument("--reason", default="", help="why (kept with the ack)")


def _silence(sub: argparse._SubParsersAction) -> None:
    sil = _sub(sub, "silence", "silence alerts by code and/or subject for a time",
               "0 done, 1 no daemon state here or unknown silence id, 64 bad arguments "
               "(unknown code: the nearest valid one is suggested)",
               "burnin silence --code process.down --subject worker --for 1h "
               "--reason 'planned restart'")
    _config(sil)
    sil.add_argument("--code", metavar="CODE", help="finding code to silence, e.g. host.cpu_high")
    sil.add_argument("--subject", metavar="S", help="subject to silence, e.g. a process name")
    sil.add_argument("--for", dest="for_", type=duration, metavar="DUR",
                     help="how long (nominal), e.g. 1h")
    sil.add_argument("--reason", metavar="TEXT", help="why (required for a new silence)")
    sil.add_argument("--list", action="store_true", help="list the active silences")
    sil.add_argument("--remove", metavar="ID", help="remove a silence by its id")


_COMMANDS = {"run": _run, "check": _check, "status": _status, "watch": _watch,
             "report": _report, "demo": _demo, "config": _config_cmd, "reload": _reload,
             "ack": _ack, "silence": _silence, "fleet": _fleet}
