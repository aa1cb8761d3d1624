"""What a crash looks like from outside: exit 70 (EX_SOFTWARE), never a verdict code.

`burnin run` exits 0/1/2 for a verdict (0 under `--service`), 78 for a bad config and 75 when
another daemon holds the runtime folder. An exception nobody caught used to exit 1 — YELLOW to
a service manager. `crashed()` turns it into one line on stderr (the traceback goes to
`logs/burnin.jsonl`, event `crashed`) and exit 70, which the systemd unit restarts.
"""

from __future__ import annotations

import contextlib
import sys

EX_SOFTWARE = 70


def crashed(command: str, exc: BaseException) -> int:
    """Report an uncaught exception of `command`; the exit code for it."""
    from daemon import logsetup

    summary = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    if logsetup.is_configured():  # file (with traceback) + the one-line stderr echo
        with contextlib.suppress(Exception):  # the log failing must not hide the exit code
            logsetup.get_logger().critical("crashed", command=command, error=summary,
                                           exit=EX_SOFTWARE, exc_info=exc)
            return EX_SOFTWARE
    with contextlib.suppress(OSError, ValueError):
        print(f"burnin {command}: crashed: {summary} (exit {EX_SOFTWARE})", file=sys.stderr,
              flush=True)
    return EX_SOFTWARE
