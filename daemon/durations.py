"""Durations written as `90s`, `5m`, `1h`, `3d` (also `500ms`, `1h30m`, or bare seconds)."""

from __future__ import annotations

import argparse
import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
MAX_S = 100 * 365 * 86400.0  # a century: longer is a typo, and past what dates can hold


def parse_duration(value: object) -> float:
    """Seconds in `value`; raises ValueError with a readable reason."""
    if isinstance(value, bool):
        raise ValueError(f"bad duration {value!r} (use e.g. 90s, 5m, 1h, 3d)")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"bad duration {value!r}: must not be negative")
        return _bounded(value, float(value))
    if not isinstance(value, str):
        raise ValueError(f"bad duration {value!r} (use e.g. 90s, 5m, 1h, 3d)")
    text = value.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f"bad duration {value!r} (use e.g. 90s, 5m, 1h, 3d)")
    return _bounded(value, total)


def _bounded(value: object, seconds: float) -> float:
    if not math.isfinite(seconds):
        raise ValueError(f"bad duration {value!r}: not a finite number")
    if seconds > MAX_S:
        raise ValueError(f"bad duration {value!r}: longer than 100 years")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of `seconds` (`3d`, `1h30m`, `90s` -> `1m30s`)."""
    if seconds < 1 and seconds > 0:
        return f"{round(seconds * 1000)}ms"
    rest = round(seconds)
    if rest == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def duration_arg(text: str) -> float:
    """`parse_duration` as an argparse `type=`: a bad duration is a usage error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
