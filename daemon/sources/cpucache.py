"""The host's CPU counters kept from one one-shot `burnin check` to the next.

Nagios and Icinga run `burnin check` every minute or so. With the previous run's reading of
the host's CPU counters (`psutil.cpu_times()`), a run measures host CPU over the whole interval
since then — a longer, truer real sample than any wait a plugin can afford — and waits for
nothing. The reading is a cache, not state: it lives outside the observed tree and the runtime
folder, in the user's runtime or cache folder (`$XDG_RUNTIME_DIR/burnin/check-cpu.json`, else
`~/.cache/burnin/check-cpu.json`; `BURNIN_CPU_CACHE` names another file, empty: none). A reading
from another boot, older than `MAX_AGE_S`, from the future, with counters above today's, or
unreadable is not used: the check then samples over its own run, as without a cache. Writing
it is best effort (a read-only home costs nothing but the longer wait next time).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

FILE = "check-cpu.json"
ENV = "BURNIN_CPU_CACHE"
MAX_AGE_S = 300.0  # an older reading says little about the host now: sample afresh
BOOT_SLACK_S = 2.0  # psutil.boot_time() is derived from uptime: it wobbles a little


def path() -> Path | None:
    """Where the reading is kept (None: nowhere)."""
    if ENV in os.environ:
        return Path(os.environ[ENV]) if os.environ[ENV] else None
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return Path(base) / "burnin" / FILE
    with contextlib.suppress(RuntimeError, KeyError):
        return Path.home() / ".cache" / "burnin" / FILE
    return None


def load(where: Path | None, now: float, boot: float, current: Any) -> tuple[Any, float] | None:
    """The kept counters (shaped like `current`) and their age in seconds, if usable."""
    if where is None:
        return None
    try:
        doc = json.loads(where.read_bytes())
        times, at = doc["times"], float(doc["at"])
        if abs(float(doc["boot"]) - boot) > BOOT_SLACK_S or not 0.0 <= now - at <= MAX_AGE_S:
            return None
        kept = type(current)(**{f: float(times[f]) for f in current._fields})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not all(math.isfinite(v) and v <= c for v, c in zip(kept, current, strict=True)):
        return None  # counters only grow within a boot: this reading is not ours
    return kept, now - at


def save(where: Path | None, times: Any, now: float, boot: float) -> None:
    """Keep `times` (a `cpu_times()` reading taken at wall time `now`); errors are ignored."""
    if where is None:
        return
    doc = {"boot": boot, "at": now, "times": dict(zip(times._fields, times, strict=True))}
    with contextlib.suppress(OSError):
        where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", dir=where.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(doc, fh)
            os.replace(tmp, where)  # whole or absent; not fsynced: a lost reading is harmless
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
