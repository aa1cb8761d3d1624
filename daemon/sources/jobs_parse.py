"""Pure parsing of job-folder names and files (SPEC §2): ids, times, safe text.

Nothing here touches the disk or the clock; the index and the scanner feed it bytes and stats.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import orjson

from daemon.clock import parse_timestamp
from daemon.jobglob import Pattern as Pattern  # re-exported: defined below config
from daemon.jobglob import split_pattern as split_pattern

KINDS = ("pending", "claims", "results", "failed")


def classify(patterns: list[Pattern], folder: str, name: str) -> str | None:
    """The kind of file `name` in `folder`, first matching pattern wins; None if unwatched."""
    for pat in patterns:
        if pat.folder == folder and fnmatch.fnmatchcase(name, pat.glob):
            return pat.kind
    return None


def strip_suffix(name: str, suffix: str) -> str:
    if suffix and name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name


def claim_id(name: str, claim_suffix: str, pending_suffix: str) -> str:
    """`X.claimed` and `X.job.json.claimed` both claim job `X`."""
    return strip_suffix(strip_suffix(name, claim_suffix), pending_suffix)


def result_id(name: str, obj: dict[str, Any] | None, field: str, suffix: str) -> str:
    """The result's `job_id` field when it is a non-empty string or integer, else its name."""
    value = obj.get(field) if obj is not None else None
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return strip_suffix(name, suffix)


def parse_object(data: bytes | None) -> dict[str, Any] | None:
    """The JSON object in `data`, or None when it is empty, not JSON, or not an object."""
    if not data:
        return None
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def time_field(obj: dict[str, Any] | None, field: str) -> float | None:
    """Epoch seconds of `obj[field]` (ISO-8601 or epoch), None when absent or invalid."""
    if obj is None or not field:
        return None
    return parse_timestamp(obj.get(field))


def pid_field(obj: dict[str, Any] | None) -> int | None:
    """The `pid` a claim names, when it is a positive integer."""
    value = obj.get("pid") if obj is not None else None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def safe(text: str) -> str:
    """A name made safe for JSON/UTF-8 output: undecodable bytes become `\\xNN` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace")
